using Tuwen.Training;

namespace Tuwen.Tests.Training;

public class TrainConfigTests
{
    [Fact]
    public void OverridesSetNestedKeysAndCreateObjectiveOptions()
    {
        var recipe = new TrainConfig().With(["lr=5e-4", "augment.crop_scale_min=0.8", "objective=brivl-moco",
            "objective_options.queue_size=64", "objective_options.image_checkpoint=/tmp/run"]);
        Assert.Equal(5e-4, recipe.Lr);
        Assert.Equal(0.8, recipe.Augment.CropScaleMin);
        Assert.Equal("brivl-moco", recipe.Objective);
        Assert.Equal(64, recipe.ObjectiveOptions!["queue_size"]!.GetValue<int>());
        Assert.Equal("/tmp/run", recipe.ObjectiveOptions!["image_checkpoint"]!.GetValue<string>());
    }

    [Fact]
    public void UnknownKeysAreUserErrors()
    {
        Assert.Contains("unknown training config key 'lrr'", Assert.Throws<TuwenException>(() => new TrainConfig().With(["lrr=1"])).Message);
        Assert.Contains("unknown training config key 'augment.nope'", Assert.Throws<TuwenException>(() => new TrainConfig().With(["augment.nope=1"])).Message);
        Assert.Throws<TuwenException>(() => new TrainConfig().With(["lr"]));
    }
}
