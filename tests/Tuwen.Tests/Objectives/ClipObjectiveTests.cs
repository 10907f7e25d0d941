using Tuwen.Objectives;
using static TorchSharp.torch;

namespace Tuwen.Tests.Objectives;

public class ClipObjectiveTests
{
    [Fact]
    public void SymmetricInfoNceMatchesHandComputed3x3()
    {
        // image·textᵀ = [[1,0,.6],[0,1,0],[0,0,.8]], scale 2 → logits [[2,0,1.2],[0,2,0],[0,0,1.6]].
        // rows (image→text): (ln(e²+1+e^1.2)−2 + ln(e²+2)−2 + ln(2+e^1.6)−1.6)/3 = 0.3463651
        // cols (text→image): (ln(e²+2)−2 ·2 + ln(e^1.2+1+e^1.6)−1.6)/3           = 0.3687375
        using var image = tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, [3, 3]);
        using var text = tensor(new float[] { 1, 0, 0, 0, 1, 0, 0.6f, 0, 0.8f }, [3, 3]);
        using var scale = tensor(2f);
        var output = ClipObjective.Compute(image, text, scale);
        Assert.Equal(0.3575513, output.Loss.item<float>(), 5);
        // argmax per row: 0,1,2 → all right; per column: col2 = [1.2,0,1.6] → 2, right.
        Assert.Equal(1.0, output.Metrics["acc_i2t"], 6);
        Assert.Equal(1.0, output.Metrics["acc_t2i"], 6);
        output.Loss.Dispose();
    }

    [Fact]
    public void LossIsLowWhenPairsMatchAndHighWhenShuffled()
    {
        using var f = nn.functional.normalize(randn(8, 16, generator: new Generator(0)), dim: -1);
        using var s = tensor(50f);
        var matched = ClipObjective.Compute(f, f, s).Loss.item<float>();
        using var shuffled = f.roll(1, 0);
        var wrong = ClipObjective.Compute(f, shuffled, s).Loss.item<float>();
        Assert.True(matched < 0.01, $"matched loss {matched}");
        Assert.True(wrong > 5, $"mismatched loss {wrong}");
    }
}
