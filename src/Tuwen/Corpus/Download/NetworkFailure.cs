using System.Net.Sockets;
using System.Security.Authentication;

namespace Tuwen.Corpus.Download;

/// <summary>Names the reason a request failed at the network level, and whether trying again can help.</summary>
internal static class NetworkFailure
{
    public static (string Reason, bool Transient) Classify(Exception e)
    {
        if (Inner<BlockedAddressException>(e) is not null) return ("download.private_address", false);
        // A bad certificate stays bad on retry; a failed name lookup or a reset may not.
        if (Inner<AuthenticationException>(e) is not null) return ("download.tls", false);
        if (Inner<SocketException>(e) is { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain })
            return ("download.dns", true);
        return ("download.connection", true);
    }

    private static T? Inner<T>(Exception e) where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is T match) return match;
        return null;
    }
}
