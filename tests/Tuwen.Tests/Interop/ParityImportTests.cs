using System.Text.Json.Nodes;
using Tuwen.Interop.ChineseClip;
using Tuwen.Interop.PyTorch;
using Tuwen.Tests.Cli;
using Tuwen.Text;
using Tuwen.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Tuwen.Tests.Interop;

/// <summary>
/// The Hugging Face layout, `tuwen checkpoint import` and the loader's errors. The HF fixture is the vit-b-16
/// fixture's weights renamed to transformers' ChineseCLIPModel names (and stored as float16), so its reference
/// outputs are vit-b-16's.
/// </summary>
public class ParityImportTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("tuwen-parity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static void AssertReproduces(ITestOutputHelper output, string what, Func<Tensor, Tensor> encodeImage, Func<Tensor, Tensor> encodeText)
    {
        var reference = ParityFixtures.Reference("vit-b-16");
        using var _ = no_grad();
        using var image = encodeImage(reference["pixels"]);
        using var text = encodeText(reference["token_ids"]);
        ParityFixtures.AssertClose(output, $"{what} image", image, reference["image_emb"]);
        ParityFixtures.AssertClose(output, $"{what} text", text, reference["text_emb"]);
        foreach (var t in reference.Values) t.Dispose();
    }

    [Fact]
    public void HuggingFaceLayoutGivesChineseClipEmbeddings()
    {
        using var imported = ChineseClipHuggingFace.Load(ParityFixtures.Path("hf-vit-b-16"));
        Assert.Equal(2, imported.Config.Vision.Heads);
        Assert.Equal(2, imported.Config.Text.Heads);
        AssertReproduces(output, "vit-b-16 via Hugging Face safetensors", imported.Model.EncodeImage, imported.Model.EncodeText);
    }

    [Fact]
    public void ImportedPtCheckpointLoadsAsATuwenCheckpointWithTheReferenceEmbeddings()
    {
        var outDir = Path.Combine(_dir, "ckpt");
        var r = CliRunner.Run("checkpoint", "import", "--from", "cnclip", "--input", ParityFixtures.Path("vit-b-16.pt"),
            "--vocab", ParityFixtures.Path("hf-vit-b-16/vocab.txt"), "--out", outDir, "--vision-head-width", "8", "--text-head-width", "8");
        output.WriteLine(r.Out + r.Err);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("imported cnclip-custom (vit image tower, embed dim 16", r.Out);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!;
        Assert.Equal("quick_gelu", config["model"]!["vision"]!["activation"]!.GetValue<string>());
        using var loaded = LoadedModel.FromCheckpoint(outDir);
        Assert.Null(loaded.Precision);
        AssertReproduces(output, "vit-b-16 via tuwen checkpoint import (.pt)", loaded.Model.EncodeImage, loaded.Model.EncodeText);
    }

    [Fact]
    public void ImportedHuggingFaceDirectoryTakesItsOwnVocab()
    {
        var outDir = Path.Combine(_dir, "hf");
        var r = CliRunner.Run("checkpoint", "import", "--from", "hf", "--input", ParityFixtures.Path("hf-vit-b-16"), "--out", outDir);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(File.ReadAllText(ParityFixtures.Path("hf-vit-b-16/vocab.txt")), File.ReadAllText(Path.Combine(outDir, "vocab.txt")));
        using var loaded = LoadedModel.FromCheckpoint(outDir);
        AssertReproduces(output, "vit-b-16 via tuwen checkpoint import (hf)", loaded.Model.EncodeImage, loaded.Model.EncodeText);
    }

    [Fact]
    public void PtWithoutVocabIsAClearError()
    {
        var r = CliRunner.Run("checkpoint", "import", "--from", "cnclip", "--input", ParityFixtures.Path("vit-b-16.pt"), "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: a Chinese-CLIP .pt holds no vocabulary: pass --vocab", r.Err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public void HeadWidthThatDoesNotDivideAndVocabOfTheWrongSizeAreClearErrors()
    {
        // The tiny fixtures have head width 8, so Chinese-CLIP's default of 64 cannot split a 16-wide tower.
        var r = CliRunner.Run("checkpoint", "import", "--from", "cnclip", "--input", ParityFixtures.Path("vit-b-16.pt"),
            "--vocab", ParityFixtures.Path("hf-vit-b-16/vocab.txt"), "--out", Path.Combine(_dir, "h"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("vision width 16 is not a multiple of head width 64 (pass --vision-head-width", r.Err);
        r = CliRunner.Run("checkpoint", "import", "--from", "cnclip", "--input", ParityFixtures.Path("vit-b-16.pt"), "--vocab", SharedData.Path("chinese-clip", "vocab.txt"),
            "--vision-head-width", "8", "--text-head-width", "8", "--out", Path.Combine(_dir, "v"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("has 21128 tokens but the checkpoint's word embeddings have 300 rows", r.Err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "v")));
    }

    [Fact]
    public void NonCheckpointFileIsAClearError()
    {
        var bogus = Path.Combine(_dir, "notes.pt");
        File.WriteAllText(bogus, "these are not weights");
        var r = CliRunner.Run("checkpoint", "import", "--from", "cnclip", "--input", bogus, "--vocab", ParityFixtures.Path("hf-vit-b-16/vocab.txt"), "--out", Path.Combine(_dir, "y"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not a zip archive", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Fact]
    public void TamperedStateDictListsMissingUnexpectedAndMisshapenKeys()
    {
        var sd = TorchCheckpointReader.ReadStateDict(ParityFixtures.Path("vit-b-16.pt"));
        try
        {
            Assert.True(sd.Remove("visual.transformer.resblocks.1.ln_2.bias", out var removed));
            removed.Dispose();
            sd["visual.transformer.resblocks.1.ln_3.bias"] = zeros(16);
            sd["bert.encoder.layer.0.output.dense.bias"].Dispose();
            sd["bert.encoder.layer.0.output.dense.bias"] = zeros(17);
            var e = Assert.Throws<TuwenException>(() => ChineseClipCheckpoint.FromStateDict(sd, ParityFixtures.Options("vit-b-16"), "tampered.pt"));
            output.WriteLine(e.Message);
            Assert.Contains("missing keys (1): visual.transformer.resblocks.1.ln_2.bias;", e.Message);
            Assert.Contains("unexpected keys (1): visual.transformer.resblocks.1.ln_3.bias;", e.Message);
            Assert.Contains("wrong shape keys (1): bert.encoder.layer.0.output.dense.bias [17] (expected [16]);", e.Message);
        }
        finally { foreach (var t in sd.Values) t.Dispose(); }
    }

    [Fact]
    public void BertPoolerIsDroppedButOtherExtraKeysAreNot()
    {
        var sd = TorchCheckpointReader.ReadStateDict(ParityFixtures.Path("vit-b-16.pt"));
        try
        {
            // Chinese-CLIP's BertModel has no pooler, but state_dicts made from a RoBERTa checkpoint carry one; it ignores them.
            Assert.DoesNotContain("bert.pooler.dense.weight", sd.Keys);
            sd["bert.pooler.dense.weight"] = zeros(16, 16);
            sd["bert.pooler.dense.bias"] = zeros(16);
            using (ChineseClipCheckpoint.FromStateDict(sd, ParityFixtures.Options("vit-b-16"), "ok.pt")) { }
            sd["bert.pooler2.dense.weight"] = zeros(1);
            var e = Assert.Throws<TuwenException>(() => ChineseClipCheckpoint.FromStateDict(sd, ParityFixtures.Options("vit-b-16"), "extra.pt"));
            Assert.Contains("unexpected keys (1): bert.pooler2.dense.weight", e.Message);
        }
        finally { foreach (var t in sd.Values) t.Dispose(); }
    }

    [Fact]
    public void HuggingFaceLayoutWithAStrayKeyIsRejected()
    {
        var hf = SafeTensors.Load(ParityFixtures.Path("hf-vit-b-16/model.safetensors"));
        try
        {
            hf["vision_model.encoder.layers.0.self_attn.q_norm.weight"] = zeros(16);
            hf.Remove("vision_model.encoder.layers.1.self_attn.k_proj.bias", out var k);
            k!.Dispose();
            var e = Assert.Throws<TuwenException>(() => ChineseClipHuggingFace.ToChineseClipNames(hf, "stray.safetensors"));
            Assert.Contains("missing keys (1): vision_model.encoder.layers.1.self_attn.k_proj.bias;", e.Message);
            Assert.Contains("unexpected keys (1): vision_model.encoder.layers.0.self_attn.q_norm.weight;", e.Message);
        }
        finally { foreach (var t in hf.Values) t.Dispose(); }
    }

    [Fact]
    public void TokenizerIdsEqualChineseClipTokenize()
    {
        var fixture = JsonNode.Parse(File.ReadAllText(ParityFixtures.Path("tokenizer.json")))!;
        var tokenizer = new BertTokenizer(Vocab.Load(SharedData.Path("chinese-clip", "vocab.txt")));
        var texts = fixture["texts"]!.AsArray().Select(t => t!.GetValue<string>()).ToArray();
        var ids = fixture["ids"]!.AsArray().Select(row => row!.AsArray().Select(v => v!.GetValue<long>()).ToArray()).ToArray();
        Assert.Equal(6, texts.Length);
        for (var i = 0; i < texts.Length; i++) Assert.Equal(ids[i], tokenizer.Encode(texts[i], 52));
    }
}
