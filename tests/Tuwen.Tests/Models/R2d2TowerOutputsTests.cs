using Tuwen.Models;
using Tuwen.Tests.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class R2d2TowerOutputsTests
{
    /// <summary>A BERT tower that pools by the mean of its tokens: its global feature is not a projection of [CLS].</summary>
    private sealed class MeanPoolBert : TextTower
    {
        private readonly BertTextEncoder inner;

        public MeanPoolBert(TextConfig c) : base(nameof(MeanPoolBert))
        {
            inner = new BertTextEncoder(c);
            RegisterComponents();
        }

        public override int Width => inner.Width;
        public override Tensor ForwardTokens(Tensor tokenIds) => inner.ForwardTokens(tokenIds);

        public override Tensor forward(Tensor tokenIds)
        {
            using var tokens = inner.ForwardTokens(tokenIds);
            return tokens.mean([1]);
        }
    }

    private static readonly Tensor Ids = tensor(new long[] { 101, 2769, 4263, 102, 0, 101, 1921, 102, 0, 0 }, [2, 5]);

    [Fact]
    public void OnePassGivesTheModelsOwnGlobalFeaturesForVitAndBert()
    {
        manual_seed(21);
        using var model = new DualEncoder(ObjectiveTraining.MicroVit);
        var outputs = new R2d2TowerOutputs(model);
        Assert.True(outputs.ImageInOnePass);
        Assert.True(outputs.TextInOnePass);
        using var images = randn(3, 3, 32, 32);
        using var image = outputs.Image(model, images);
        using var reference = model.EncodeImage(images);
        Assert.True(image.Global.allclose(reference, 1e-5, 1e-6));
        Assert.Equal(new long[] { 3, 17, 32 }, image.Tokens.shape);
        using var text = outputs.Text(model, Ids);
        using var textReference = model.EncodeText(Ids);
        Assert.True(text.Global.allclose(textReference, 1e-5, 1e-6));
    }

    [Fact]
    public void TowersThatPoolOtherwiseRunTwice()
    {
        TowerRegistry.RegisterTextTower("mean-pool-test", (c, _) => new MeanPoolBert(c));
        manual_seed(22);
        using var model = new DualEncoder(ObjectiveTraining.MicroVit with { Text = ObjectiveTraining.MicroVit.Text with { Type = "mean-pool-test" } });
        var outputs = new R2d2TowerOutputs(model);
        Assert.True(outputs.ImageInOnePass);
        Assert.False(outputs.TextInOnePass);
        using var text = outputs.Text(model, Ids);
        using var reference = model.EncodeText(Ids);
        Assert.True(text.Global.allclose(reference, 1e-6, 1e-7));
        Assert.Equal(new long[] { 2, 5, 32 }, text.Tokens.shape);
    }
}
