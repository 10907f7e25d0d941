namespace Tuwen.Server;

/// <summary>
/// A request the server will not serve, with the 4xx status and the one-line reason the client sees as
/// {"error": …}. Thrown anywhere below an endpoint; the error middleware turns it into the response.
/// </summary>
public sealed class ApiRejection(int status, string message) : Exception(message)
{
    public int Status => status;

    public static ApiRejection BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    public static ApiRejection NotFound(string message) => new(StatusCodes.Status404NotFound, message);
}
