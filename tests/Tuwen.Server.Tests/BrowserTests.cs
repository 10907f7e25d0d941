using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Tuwen.Server.Tests;

/// <summary>
/// The web page end to end in Debian's Chromium (never a downloaded browser): type 笑脸 and see results, upload
/// an image and see its neighbours, and keep a screenshot under the test output directory.
/// </summary>
public sealed class BrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task TypingAndUploadingShowResultGrids()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh (it installs Debian's chromium and fonts-wqy-microhei)");
        await using var h = await ServerHarness.StartAsync(loopback: true);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1000, Height = 800 } });
        await page.GotoAsync(h.App.Urls.First() + "/");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("9 张图片");
        Assert.True(await page.Locator("#rerank").IsDisabledAsync(), "re-rank toggle must be disabled for a CLIP checkpoint");
        Assert.Contains("R2D2", await page.Locator("#rerank-label").GetAttributeAsync("title"));

        await page.FillAsync("#query", "笑脸");
        await page.ClickAsync("#search-button");
        await Assertions.Expect(page.Locator(".result")).Not.ToHaveCountAsync(0);
        var captions = await page.Locator(".result .caption").AllTextContentsAsync();
        Assert.Contains(captions, c => TinyModels.Captions.Any(c.StartsWith));
        await Assertions.Expect(page.Locator(".result img").First).ToHaveJSPropertyAsync("complete", true);

        var dir = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(dir);
        var typed = Path.Combine(dir, "search-xiaolian.png");
        await page.ScreenshotAsync(new() { Path = typed, FullPage = true });

        var upload = Path.Combine(dir, "upload.png");
        await File.WriteAllBytesAsync(upload, TinyModels.Png(5));
        await page.SetInputFilesAsync("#upload", upload);
        await Assertions.Expect(page.Locator(".result .caption").First).ToHaveTextAsync(TinyModels.Captions[5]);
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("找到");
        var uploaded = Path.Combine(dir, "search-upload.png");
        await page.ScreenshotAsync(new() { Path = uploaded, FullPage = true });

        await page.FillAsync("#k", "-3");
        await page.FillAsync("#query", "   ");
        await page.ClickAsync("#search-button");
        await Assertions.Expect(page.Locator("#message.error")).ToContainTextAsync("请输入");

        output.WriteLine($"screenshots: {typed} {uploaded}");
        Console.WriteLine($"screenshots: {typed} {uploaded}");
        Assert.True(new FileInfo(typed).Length > 5_000 && new FileInfo(uploaded).Length > 5_000);
    }
}
