using System.Text;
using System.Text.Json;

namespace Tuwen.Server;

/// <summary>
/// Reads a JSON body ourselves rather than through model binding, so that oversized bodies, invalid UTF-8
/// and malformed JSON each answer a 4xx with a message that says which, instead of an empty 400 or a 500.
/// </summary>
public static class JsonBody
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static async Task<T> ReadAsync<T>(HttpRequest request, int maxBytes) where T : class
    {
        if (request.ContentLength > maxBytes) throw TooLarge(maxBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw TooLarge(maxBytes);
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) throw ApiRejection.BadRequest("the request body is empty: send a JSON object");
        string text;
        try { text = StrictUtf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length); }
        catch (DecoderFallbackException) { throw ApiRejection.BadRequest("the request body is not valid UTF-8"); }
        try
        {
            return JsonSerializer.Deserialize<T>(text) ?? throw ApiRejection.BadRequest("the request body is null: send a JSON object");
        }
        catch (JsonException e)
        {
            throw ApiRejection.BadRequest($"the request body is not the expected JSON: {e.Message.Split('.')[0]}");
        }
    }

    private static ApiRejection TooLarge(int maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {maxBytes} bytes");

    /// <summary>Base64 (optionally a data: URL) → bytes, or a 400 saying the field is not base64.</summary>
    public static byte[] Base64(string value, string field)
    {
        var comma = value.StartsWith("data:", StringComparison.Ordinal) ? value.IndexOf(',') : -1;
        try { return Convert.FromBase64String(comma >= 0 ? value[(comma + 1)..] : value); }
        catch (FormatException) { throw ApiRejection.BadRequest($"{field}: not base64"); }
    }
}
