using Microsoft.Extensions.Hosting;
using Tuwen.Inference;
using Tuwen.Server;
using Tuwen.Server.Tests;

// Serves a checkpoint's text encoder over N random unit vectors on loopback, for bench/serve/run.sh:
//   ServeBench CHECKPOINT VECTORS PORT
if (args.Length != 3) { Console.Error.WriteLine("usage: ServeBench CHECKPOINT VECTORS PORT"); return 2; }
var (checkpoint, count, port) = (args[0], int.Parse(args[1]), int.Parse(args[2]));
TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
var runtime = EmbeddingRuntimes.Open("torch", checkpoint);
var catalog = new InMemoryCatalog(checkpoint, runtime.EmbedDim, withTexts: false);
var random = new Random(7);
// A 1×1 PNG: the thumbnails are not what is measured.
byte[] png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
for (var i = 0; i < count; i++)
{
    var v = new float[runtime.EmbedDim];
    for (var j = 0; j < v.Length; j++) v[j] = (float)(random.NextDouble() * 2 - 1);
    catalog.AddImage(SearchService.Normalised(v), png, $"随机图片 {i}", $"random-{i}");
}
using var service = new SearchService(catalog, runtime);
// Rate limiting off: the load run is one client address on purpose.
await using var app = TuwenServer.Build(service, new ServerOptions { Port = port, RateLimitPerMinute = 0 });
await app.StartAsync();
Console.WriteLine($"serving {count} random {runtime.EmbedDim}-d vectors with {checkpoint} on {string.Join(' ', app.Urls)}");
await app.WaitForShutdownAsync();
return 0;
