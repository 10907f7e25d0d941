namespace Tuwen.Corpus.Download;

/// <summary>Reads response bodies with a size cap, so a never-ending or huge body costs at most the cap.</summary>
internal static class BodyReader
{
    /// <summary>The body, or null when it exceeds <paramref name="maxBytes"/> (unless <paramref name="truncate"/>).</summary>
    public static async Task<byte[]?> ReadAsync(HttpResponseMessage response, long maxBytes, bool truncate, CancellationToken cancel)
    {
        if (!truncate && response.Content.Headers.ContentLength > maxBytes) return null;
        await using var stream = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
        var initial = (int)Math.Min(maxBytes, response.Content.Headers.ContentLength ?? 64 * 1024);
        using var buffer = new MemoryStream(Math.Max(initial, 1024));
        var chunk = new byte[64 * 1024];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, cancel).ConfigureAwait(false);
            if (read == 0) break;
            if (buffer.Length + read > maxBytes)
            {
                if (!truncate) return null;
                buffer.Write(chunk, 0, (int)(maxBytes - buffer.Length));
                break;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
