using Tuwen.Search;

namespace Tuwen.Server;

/// <summary>
/// One /knn-service query: embed the query (text, image, URL, stored id or a given vector), search the
/// chosen modality, optionally re-rank the top K with the cross encoders, drop near-duplicates, and describe
/// the hits.
/// </summary>
public sealed class KnnSearch(SearchService service, ServerOptions options, IHttpClientFactory http)
{
    private sealed record Query(float[] Vector, string? Text, byte[]? Image);

    public async Task<IReadOnlyList<KnnResult>> RunAsync(KnnRequest request)
    {
        var k = request.NumImages ?? 20;
        if (k < 1 || k > options.MaxResults) throw ApiRejection.BadRequest($"num_images must be between 1 and {options.MaxResults}, got {k}");
        var rerank = request.Rerank ?? 0;
        if (rerank < 0 || rerank > options.MaxRerank) throw ApiRejection.BadRequest($"rerank must be between 0 and {options.MaxRerank}, got {rerank}");
        var modality = (request.Modality ?? "image").ToLowerInvariant();
        if (modality is not ("image" or "text")) throw ApiRejection.BadRequest($"modality must be 'image' or 'text', got '{request.Modality}'");
        var index = modality == "image" ? service.Catalog.Images
            : service.Catalog.Texts ?? throw ApiRejection.BadRequest("modality 'text': this index was built without texts");

        var query = await QueryAsync(request);
        if (rerank > 0)
        {
            if (service.Reranker == null) throw ApiRejection.BadRequest("rerank: " + service.RerankUnavailableReason);
            if (modality == "image" && query.Text == null || modality == "text" && query.Image == null)
                throw ApiRejection.BadRequest("rerank: the cross encoders score text–image pairs: use a text query for images, or an image query for texts");
        }
        var dedup = request.Deduplicate ?? true;
        var fetch = Math.Max(Math.Max(k, rerank), request.NumResultIds ?? 0);
        if (dedup) fetch = Math.Max(fetch, 2 * k);
        var hits = service.Search(index, query.Vector, Math.Min(fetch, options.MaxResults * 2));
        float[]? probabilities = null;
        if (rerank > 0)
        {
            var top = hits.Take(rerank).ToArray();
            probabilities = await ReRankAsync(query, modality, top);
            var reranked = top.Select((h, i) => (Hit: h, Score: h.Score + probabilities[i], P: probabilities[i])).OrderByDescending(x => x.Score).ToList();
            probabilities = reranked.Select(x => x.P).ToArray();
            hits = reranked.Select(x => x.Hit).ToArray();
        }
        var kept = dedup ? Deduplicate(index, hits, k) : Enumerable.Range(0, Math.Min(k, hits.Length)).ToList();
        return service.Read(catalog => kept.Select(i =>
        {
            var hit = hits[i];
            var item = modality == "image" ? catalog.Image(hit.Id) : catalog.Text(hit.Id);
            float? p = probabilities?[i];
            return new KnnResult(hit.Id, hit.Score + (p ?? 0), item?.Caption, modality == "image" ? $"/thumbnail/{hit.Id}" : null, item?.Key, hit.Score, p);
        }).ToList());
    }

    private async Task<Query> QueryAsync(KnnRequest r)
    {
        var given = new[] { r.Text != null, r.Image != null, r.ImageUrl != null, r.ImageId != null, r.Embedding != null }.Count(g => g);
        if (given != 1) throw ApiRejection.BadRequest("give exactly one of text, image (base64), image_url, image_id, embedding_input");
        if (r.Text != null)
        {
            if (string.IsNullOrWhiteSpace(r.Text)) throw ApiRejection.BadRequest("text: empty");
            if (r.Text.Length > 1000) throw ApiRejection.BadRequest($"text: {r.Text.Length} characters, more than 1000");
            return new Query(await service.EmbedTextAsync(r.Text), r.Text, null);
        }
        if (r.Embedding != null)
        {
            if (r.Embedding.Length != service.Runtime.EmbedDim || r.Embedding.Any(x => !float.IsFinite(x)))
                throw ApiRejection.BadRequest($"embedding_input: needs {service.Runtime.EmbedDim} finite numbers, got {r.Embedding.Length}");
            return new Query(SearchService.Normalised((float[])r.Embedding.Clone()), null, null);
        }
        if (r.ImageId != null)
        {
            var id = ItemIds.Parse(r.ImageId, "image_id");
            var vector = new float[service.Catalog.Images.Dim];
            if (!service.Read(c => c.Images.TryGetVector(id, vector))) throw ApiRejection.NotFound($"image_id: no image {id} in the index");
            return new Query(vector, null, service.Read(c => c.Thumbnail(id)));
        }
        var bytes = r.Image != null ? JsonBody.Base64(r.Image, "image") : await FetchAsync(r.ImageUrl!);
        ImageSniffer.Require(bytes, options.MaxUploadBytes, r.Image != null ? "image" : "image_url");
        return new Query(await service.EmbedImageAsync(bytes), null, bytes);
    }

    private async Task<byte[]> FetchAsync(string url)
    {
        if (!options.AllowRemoteUrls) throw new ApiRejection(StatusCodes.Status403Forbidden, "image_url: fetching remote images is disabled (start the server with --allow-remote-urls)");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw ApiRejection.BadRequest("image_url: not an http(s) URL");
        try
        {
            using var client = http.CreateClient("remote-images");
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode) throw ApiRejection.BadRequest($"image_url: the remote server answered {(int)response.StatusCode}");
            if (response.Content.Headers.ContentLength > options.MaxUploadBytes)
                throw new ApiRejection(StatusCodes.Status413PayloadTooLarge, $"image_url: the image is larger than {options.MaxUploadBytes} bytes");
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            return buffer.ToArray();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw ApiRejection.BadRequest($"image_url: could not fetch it ({e.Message})");
        }
    }

    private async Task<float[]> ReRankAsync(Query query, string modality, SearchHit[] top)
    {
        var reranker = service.Reranker!;
        if (modality == "image")
        {
            var images = service.Read(c => top.Select(h => c.Thumbnail(h.Id) ?? []).ToList());
            if (images.Any(b => b.Length == 0)) throw ApiRejection.BadRequest("rerank: some candidates have no stored image");
            return await service.OnModelAsync(() => reranker.TextWithImages(query.Text!, images));
        }
        var texts = service.Read(c => top.Select(h => c.Text(h.Id)?.Caption ?? "").ToList());
        var pixels = service.Pixels(query.Image!);
        return await service.OnModelAsync(() => reranker.ImageWithTexts(pixels, texts));
    }

    /// <summary>Indices into <paramref name="hits"/> kept, best first: a hit too close to a kept one is the same picture.</summary>
    private List<int> Deduplicate(IVectorIndex index, SearchHit[] hits, int k)
    {
        var kept = new List<int>();
        var vectors = new List<float[]>();
        for (var i = 0; i < hits.Length && kept.Count < k; i++)
        {
            var v = new float[index.Dim];
            if (!service.Read(_ => index.TryGetVector(hits[i].Id, v))) continue;
            if (vectors.Any(u => Dot(u, v) > options.DedupThreshold)) continue;
            kept.Add(i);
            vectors.Add(v);
        }
        return kept;
    }

    private static float Dot(float[] a, float[] b)
    {
        var sum = 0f;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
