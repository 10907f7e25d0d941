using TorchSharp;
using Tuwen.Models;
using static TorchSharp.torch;

namespace Tuwen.Tests.Models;

public class TokenWiseSimilarityTests
{
    // Images (2 tokens each, D = 2): I0 = {a=(1,0), b=(0,1)}, I1 = {c=(0,−1), d=(−0.6,−0.8)}.
    // Texts (3 positions): T0 = {p=(1,0), q=(0.6,0.8), pad (0,1)}, mask [1,1,0];
    //                      T1 = {r=(−1,0), pad 0, pad 0} (zero pads, as Wukong's code makes them), mask [1,0,0].
    private static Tensor Images() => tensor(new float[] { 1, 0, 0, 1, /**/ 0, -1, -0.6f, -0.8f }, [2, 2, 2]);
    private static Tensor Texts() => tensor(new float[] { 1, 0, 0.6f, 0.8f, 0, 1, /**/ -1, 0, 0, 0, 0, 0 }, [2, 3, 2]);
    private static Tensor TextMask() => tensor(new long[] { 1, 1, 0, 1, 0, 0 }, [2, 3]);

    [Fact]
    public void HandComputedPairsWithPaddingMasked()
    {
        using var images = Images();
        using var texts = Texts();
        using var mask = TextMask();
        using var s = TokenWiseSimilarity.Compute(images, null, texts, mask);
        // I0·T0: a·p=1 a·q=.6 | b·p=0 b·q=.8 → s^I = (max(1,.6) + max(0,.8))/2 = .9 (the pad's b·pad = 1 would give 1.0);
        //        s^T = (max_k(p) + max_k(q))/2 = (max(1,0) + max(.6,.8))/2 = .9 (counting the pad, (1+.8+1)/3 = .933).
        // I0·T1: a·r=−1 b·r=0 → s^I = (−1 + 0)/2 = −0.5: every real token of T1 scores −1 against a, and the zero pad
        //        (score 0) must not win there — Wukong's zeroed pads would give (0+0)/2 = 0; s^T = max(−1,0) = 0.
        // I1·T0: c·p=0 c·q=−.8 | d·p=−.6 d·q=−1 → s^I = (0 + −.6)/2 = −.3; s^T = (max(0,−.6) + max(−.8,−1))/2 = −.4.
        // I1·T1: c·r=0 d·r=.6 → s^I = (0 + .6)/2 = .3; s^T = max(0,.6) = .6.
        AssertClose(new[] { 0.9f, -0.5f, -0.3f, 0.3f }, s.ImageToText);
        AssertClose(new[] { 0.9f, 0f, -0.4f, 0.6f }, s.TextToImage);
        Assert.Equal([2L, 2L], s.ImageToText.shape);
    }

    [Fact]
    public void MaskedImageTokensNeitherWinNorCount()
    {
        using var images = Images();
        using var texts = Texts();
        using var mask = TextMask();
        using var imageMask = tensor(new[] { true, true, true, false }, [2, 2]);   // I1's d is masked
        using var s = TokenWiseSimilarity.Compute(images, imageMask, texts, mask);
        // I1 = {c} only. I1·T0: s^I = max(c·p, c·q) = max(0,−.8) = 0; s^T = (c·p + c·q)/2 = (0 − .8)/2 = −.4.
        // I1·T1: s^I = c·r = 0 (with d it was .3); s^T = c·r = 0 (d·r = .6 would have won).
        AssertClose(new[] { 0.9f, -0.5f, 0f, 0f }, s.ImageToText);
        AssertClose(new[] { 0.9f, 0f, -0.4f, 0f }, s.TextToImage);
    }

    [Fact]
    public void ScoresDoNotDependOnPaddedLength()
    {
        using var images = Images();
        using var texts = Texts();
        using var mask = TextMask();
        // Five more pad positions holding vectors that would win every max (all ones).
        using var longTexts = cat([texts, ones(2, 5, 2)], 1);
        using var longMask = cat([mask, zeros(2, 5, ScalarType.Int64)], 1);
        using var s = TokenWiseSimilarity.Compute(images, null, texts, mask);
        using var l = TokenWiseSimilarity.Compute(images, null, longTexts, longMask);
        Assert.True(s.ImageToText.allclose(l.ImageToText) && s.TextToImage.allclose(l.TextToImage));
    }

    [Fact]
    public void ChunkedEqualsUnchunkedAndGradientsFlow()
    {
        var g = new Generator(3);
        using var images = nn.functional.normalize(randn([5, 4, 8], generator: g), dim: -1).requires_grad_();
        using var texts = nn.functional.normalize(randn([7, 6, 8], generator: g), dim: -1).requires_grad_();
        using var mask = rand([7, 6], generator: g).gt(0.4.ToScalar());
        mask[.., 0] = tensor(true);
        using var whole = TokenWiseSimilarity.Compute(images, null, texts, mask, textChunk: 7);
        using var chunked = TokenWiseSimilarity.Compute(images, null, texts, mask, textChunk: 2);
        Assert.True(whole.ImageToText.allclose(chunked.ImageToText, 1e-6, 1e-6));
        Assert.True(whole.TextToImage.allclose(chunked.TextToImage, 1e-6, 1e-6));
        Assert.False(whole.ImageToText.allclose(whole.TextToImage));   // the two directions are different scores

        using var loss = chunked.ImageToText.sum().add(chunked.TextToImage.sum());
        loss.backward();
        Assert.True(images.grad!.abs().sum().item<float>() > 0);
        // A pad position never wins a max and never counts in a mean, so it gets no gradient at all.
        using var padGrad = texts.grad!.abs().sum(2).masked_select(mask.logical_not());
        Assert.Equal(0f, padGrad.sum().item<float>());
    }

    [Fact]
    public void TextWithoutRealTokensIsRejected()
    {
        using var images = Images();
        using var texts = Texts();
        using var mask = zeros(2, 3, ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => TokenWiseSimilarity.Compute(images, null, texts, mask));
    }

    private static void AssertClose(float[] expected, Tensor actual)
    {
        var values = actual.contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], values[i], 5);
    }
}
