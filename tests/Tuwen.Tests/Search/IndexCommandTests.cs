using Tuwen.Search;
using Tuwen.Tests.Cli;
using Tuwen.Tests.Data;
using Tuwen.Tests.Evaluation;
using Tuwen.Tests.Inference;
using Tuwen.Training;

namespace Tuwen.Tests.Search;

public class IndexCommandTests
{
    [Fact]
    public void Build_from_a_checkpoint_and_an_image_folder_then_add_with_the_indexs_own_model()
    {
        using var dir = new TempDirectory();
        var checkpoint = dir.Combine("ckpt");
        using (var runtime = ImageFolderZeroShotSharedDataTests.TinyRuntime())
        {
            var model = runtime.Loaded.Model;
            var tensors = model.named_parameters().Select(p => KeyValuePair.Create(p.name, (TorchSharp.torch.Tensor)p.parameter))
                .Concat(model.named_buffers().Select(b => KeyValuePair.Create(b.name, b.buffer))).ToList();
            Checkpoint.Save(checkpoint, model.Config, TrainConfig.Load("quickstart"), runtime.Loaded.Tokenizer.Vocab.Tokens, tensors, [], new TrainState());
        }
        var ids = Flickr8kCnVal.Instance.ImageIds;
        for (int i = 0; i < 5; i++) File.Copy(Flickr8kCnVal.ImagePath(ids[i]), dir.Combine("images", $"{i}.jpg").EnsureDirectory());
        for (int i = 5; i < 7; i++) File.Copy(Flickr8kCnVal.ImagePath(ids[i]), dir.Combine("more", $"{i}.jpg").EnsureDirectory());
        File.WriteAllBytes(dir.Combine("more", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 0, 0]);

        var built = CliRunner.Run("index", "build", "--checkpoint", checkpoint, "--image-folder", dir.Combine("images"), "--out", dir.Combine("index"),
            "--kind", "ivf", "--batch", "2");
        Assert.True(built.ExitCode == 0, built.Err);
        Assert.Contains("ivf index of 5 images (5 thumbnails) and 0 texts", built.Out);
        var added = CliRunner.Run("index", "add", "--index", dir.Combine("index"), "--image-folder", dir.Combine("more"));
        Assert.True(added.ExitCode == 0, added.Err);
        Assert.Contains("added 2 images (ids 5–6); the index holds 7", added.Out);
        Assert.Contains("broken.png", added.Err);

        using var catalog = SearchCatalog.Open(dir.Combine("index"));
        Assert.Equal(Path.GetFullPath(checkpoint), catalog.ModelPath);
        Assert.Null(catalog.Texts);
        Assert.Equal("6.jpg", catalog.Image(6)!.Key);
        var vector = new float[catalog.Images.Dim];
        Assert.True(catalog.Images.TryGetVector(6, vector));
        Assert.Equal(6, catalog.Images.Search(vector, 1, 1)[0][0].Id);

        CliRunner.AssertUserError(CliRunner.Run("index", "build", "--checkpoint", checkpoint, "--image-folder", dir.Combine("images"),
            "--out", dir.Combine("x"), "--texts"), "an image folder has no texts");
        CliRunner.AssertUserError(CliRunner.Run("index", "build", "--image-folder", dir.Combine("images"), "--out", dir.Combine("x")), "--checkpoint is required");
        CliRunner.AssertUserError(CliRunner.Run("index", "build", "--checkpoint", checkpoint, "--out", dir.Combine("x")), "give exactly one input");
        CliRunner.AssertUserError(CliRunner.Run("index", "add", "--index", dir.Combine("index")), "give exactly one input");
    }
}
