using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Tuwen.Server;

/// <summary>The HTTP routes: clip-retrieval's (/knn-service, /indices-list, /metadata) and Tuwen's own.</summary>
public static class SearchEndpoints
{
    public const string AdminHeader = "X-Admin-Token";

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").RequireRateLimiting(TuwenServer.RateLimitPolicy);

        api.MapPost("/knn-service", async (HttpRequest http, KnnSearch search, ServerOptions options) =>
        {
            var request = await JsonBody.ReadAsync<KnnRequest>(http, BodyLimit(options));
            return Results.Ok(await search.RunAsync(request));
        }).WithSummary("Search images or captions by text, image, image URL, stored image id or vector")
          .Accepts<KnnRequest>("application/json").Produces<List<KnnResult>>().Produces<ErrorResponse>(400);

        api.MapGet("/indices-list", (SearchService s) => Results.Ok(new[] { IndexName(s) }))
            .WithSummary("Names of the served indexes (one)");

        api.MapPost("/metadata", async (HttpRequest http, SearchService s, ServerOptions options) =>
        {
            var request = await JsonBody.ReadAsync<MetadataRequest>(http, 64 * 1024);
            if (request.Ids is not { Length: > 0 and <= 1000 }) throw ApiRejection.BadRequest("ids: give 1 to 1000 ids");
            var text = string.Equals(request.Modality, "text", StringComparison.OrdinalIgnoreCase);
            var ids = request.Ids.Select(i => ItemIds.Parse(i, "ids")).ToList();
            return Results.Ok(s.Read(c => ids.Select(id => new { id, metadata = text ? c.Text(id) : c.Image(id) }).ToList()));
        }).WithSummary("Stored metadata of ids").Produces<ErrorResponse>(400);

        api.MapGet("/thumbnail/{id}", (string id, SearchService s) =>
        {
            var imageId = ItemIds.Parse(id, "id");
            var bytes = s.Read(c => c.Thumbnail(imageId)) ?? throw ApiRejection.NotFound($"no image {imageId} in the index");
            return Results.File(bytes, ImageSniffer.ContentType(bytes) ?? "application/octet-stream");
        }).WithSummary("A stored image's thumbnail").Produces<ErrorResponse>(404);

        api.MapGet("/health", (SearchService s) => Results.Ok(s.Read(c => new
        {
            status = "ok",
            index = IndexName(s),
            kind = c.Images.Kind,
            images = c.Images.Count,
            texts = c.Texts?.Count ?? 0,
            dim = c.Images.Dim,
            model = c.ModelPath,
            runtime = s.Runtime.Name,
            rerank = s.Reranker != null,
            rerank_unavailable = s.RerankUnavailableReason,
        }))).WithSummary("Liveness and what is served");

        app.MapGet("/metrics", (ServerMetrics m, SearchService s) => Results.Text(m.Render(s), "text/plain; version=0.0.4"))
            .WithSummary("Prometheus metrics");

        api.MapPost("/admin/images", async (HttpRequest http, SearchService s, ServerOptions options) =>
        {
            RequireAdmin(http, options);
            var request = await JsonBody.ReadAsync<AddImageRequest>(http, BodyLimit(options));
            if (request.Image == null) throw ApiRejection.BadRequest("image: missing (base64)");
            var bytes = JsonBody.Base64(request.Image, "image");
            ImageSniffer.Require(bytes, options.MaxUploadBytes, "image");
            var vector = await s.EmbedImageAsync(bytes);
            var key = request.Key ?? $"upload-{Guid.NewGuid():N}";
            var id = s.Write(c => c.AddImage(vector, bytes, request.Caption, key));
            return Results.Ok(new { id, key });
        }).WithSummary("Add one image to the index (admin token)").Produces<ErrorResponse>(401).Produces<ErrorResponse>(403);

        api.MapPost("/admin/delete", async (HttpRequest http, SearchService s, ServerOptions options) =>
        {
            RequireAdmin(http, options);
            var request = await JsonBody.ReadAsync<DeleteImagesRequest>(http, 64 * 1024);
            if (request.Ids is not { Length: > 0 and <= 10000 }) throw ApiRejection.BadRequest("ids: give 1 to 10000 ids");
            var ids = request.Ids.Select(i => ItemIds.Parse(i, "ids")).ToArray();
            var deleted = s.Write(c => c.DeleteImages(ids));
            return Results.Ok(new { deleted });
        }).WithSummary("Delete images from the index (admin token)").Produces<ErrorResponse>(401).Produces<ErrorResponse>(403);
    }

    private static string IndexName(SearchService s) => Path.GetFileName(Path.TrimEndingDirectorySeparator(s.Catalog.ModelPath)) is { Length: > 0 } n ? "tuwen-" + n : "tuwen";

    /// <summary>A base64 image inflates by 4/3; the rest of a request is small.</summary>
    private static int BodyLimit(ServerOptions o) => (int)Math.Min(int.MaxValue, o.MaxUploadBytes * 4L / 3 + 64 * 1024);

    private static void RequireAdmin(HttpRequest http, ServerOptions options)
    {
        if (options.AdminToken == null)
            throw new ApiRejection(StatusCodes.Status403Forbidden, "index changes are disabled: start the server with --admin-token");
        var given = http.Headers[AdminHeader].ToString();
        if (given.Length == 0) throw new ApiRejection(StatusCodes.Status401Unauthorized, $"index changes need the {AdminHeader} header");
        var a = System.Text.Encoding.UTF8.GetBytes(given);
        var b = System.Text.Encoding.UTF8.GetBytes(options.AdminToken);
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(a, b))
            throw new ApiRejection(StatusCodes.Status403Forbidden, $"wrong {AdminHeader}");
    }
}
