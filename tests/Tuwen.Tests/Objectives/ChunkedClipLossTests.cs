using Tuwen.Objectives;
using Tuwen.Tests.Training;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

public class ChunkedClipLossTests
{
    private static void Close(Tensor expected, Tensor actual, double tolerance, string what)
    {
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= tolerance, $"{what}: max |Δ| {diff} > {tolerance}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void HandComputed2x2LossAndGradients(int chunk)
    {
        // I = Id, T = [[1,0],[.6,.8]], s = 2 → logits L = [[2,1.2],[0,1.6]].
        // rows: ln(1+e^-0.8) = 0.3711007, ln(1+e^-1.6) = 0.1839007; columns: ln(1+e^-2) = 0.1269280,
        // ln(1+e^-0.4) = 0.5130153; loss = their sum / 4 = 0.2987362.
        // Row softmax P = [[.6899745,.3100255],[.1679816,.8320184]], column softmax Q = [[.8807971,.4013123],
        // [.1192029,.5986877]]; G = (P+Q−2·Id)/4 = [[−.1073071,.1778345],[.0717961,−.1423235]];
        // ∂I = 2·G·T, ∂T = 2·Gᵀ·I, ∂s = Σ G∘(I·Tᵀ) = −.1073071 + .6·.1778345 − .8·.1423235 = −.1144652.
        using var image = tensor(new float[] { 1, 0, 0, 1 }, [2, 2]);
        using var text = tensor(new float[] { 1, 0, 0.6f, 0.8f }, [2, 2]);
        using var scale = tensor(2f);
        using var result = ChunkedClipLoss.Compute(image, text, scale, chunk);
        Assert.Equal(0.2987362, result.Loss.item<float>(), 5);
        using var dImage = tensor(new float[] { -0.0012129f, 0.2845351f, -0.0271959f, -0.2277176f }, [2, 2]);
        using var dText = tensor(new float[] { -0.2146142f, 0.1435923f, 0.3556689f, -0.2846470f }, [2, 2]);
        Close(dImage, result.ImageGrad, 1e-6, "∂image");
        Close(dText, result.TextGrad, 1e-6, "∂text");
        Assert.Equal(-0.1144652, result.ScaleGrad.item<float>(), 5);
        Assert.Empty(result.ScaleGrad.shape);
        // argmax rows: [0, 1] right; columns: col0 [2,0] → 0, col1 [1.2,1.6] → 1, right.
        Assert.Equal(1.0, result.AccImageToText);
        Assert.Equal(1.0, result.AccTextToImage);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(37)]
    [InlineData(64)]
    public void EqualsThePlainFullMatrixLossAndItsAutogradGradients(int chunk)
    {
        var generator = new Generator(3);
        using var image = nn.functional.normalize(randn(37, 16, generator: generator), dim: -1).requires_grad_(true);
        using var text = nn.functional.normalize(randn(37, 16, generator: generator), dim: -1).requires_grad_(true);
        using var scale = tensor(14.3f).requires_grad_(true);
        var plain = ClipObjective.Compute(image, text, scale);
        plain.Loss.backward();

        using var chunked = ChunkedClipLoss.Compute(image, text, scale, chunk);
        Assert.Equal(plain.Loss.item<float>(), chunked.Loss.item<float>(), 5);
        Close(image.grad!, chunked.ImageGrad, 1e-5, "∂image");
        Close(text.grad!, chunked.TextGrad, 1e-5, "∂text");
        Assert.Equal(scale.grad!.item<float>(), chunked.ScaleGrad.item<float>(), 5);
        Assert.Equal(plain.Metrics["acc_i2t"], chunked.AccImageToText, 6);
        Assert.Equal(plain.Metrics["acc_t2i"], chunked.AccTextToImage, 6);
        plain.Loss.Dispose();
    }

    [Fact]
    public void ChunkedObjectiveBackpropagatesTheSameParameterGradientsAsThePlainOne()
    {
        using var data = new ResumeTests.SyntheticData(12, 5).Epoch(0, 0).First();
        Dictionary<string, Tensor> Gradients(ClipObjective objective, out float loss)
        {
            manual_seed(11);
            using var model = new Tuwen.Models.DualEncoder(ResumeTests.Micro);
            var output = objective.Forward(model, data);
            output.Loss.backward();
            loss = output.Loss.item<float>();
            output.Loss.Dispose();
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        }
        var plain = Gradients(new ClipObjective(), out var plainLoss);
        var chunked = Gradients(new ClipObjective(chunkSize: 5), out var chunkedLoss);
        Assert.Equal(plainLoss, chunkedLoss, 5);
        Assert.True(plain["logit_scale"].abs().item<float>() > 0, "the temperature must receive a gradient");
        foreach (var (name, g) in plain) Close(g, chunked[name], 1e-5, name);
    }

    [Fact]
    public void BadOptionsAreClearErrors()
    {
        var negative = Assert.Throws<TuwenException>(() => ObjectiveRegistry.Create("clip", new() { ["chunk_size"] = -1 }, null!));
        Assert.Contains("chunk_size must be >= 0", negative.Message);
        var unknown = Assert.Throws<TuwenException>(() => ObjectiveRegistry.Create("clip", new() { ["chunks"] = 4 }, null!));
        Assert.Contains("unknown option 'chunks'", unknown.Message);
        Assert.Equal(64, ((ClipObjective)ObjectiveRegistry.Create("clip", new() { ["chunk_size"] = 64 }, null!)).ChunkSize);
        using var features = zeros(4, 8);
        using var scale = tensor(1f);
        Assert.Throws<TuwenException>(() => ChunkedClipLoss.Compute(features, features, scale, 0));
        using var other = zeros(3, 8);
        Assert.Throws<TuwenException>(() => ChunkedClipLoss.Compute(features, other, scale, 2));
    }
}
