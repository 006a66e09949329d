using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenQA.Selenium;
using OrleansControl.Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansControl.Demo.Tests;

/// <summary>
/// The web view in a real browser (Debian's headless Chromium, Selenium) against the demo's own processes: the bank
/// controller's page as the demo prints it, signed in with the token it prints, an operator's failover clicked there.
/// </summary>
[Collection(DemoRuns.Name)]
public sealed partial class DemoWebViewTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task The_bank_controllers_page_shows_the_demos_connections_and_follows_a_failover_clicked_there_within_a_second()
    {
        using var browser = HeadlessBrowser.Start(acceptInsecureCertificates: true); // the demo's CA is made for the run
        await using var demo = DemoProcess.Start("--faults", "none", "--duration", "40", "--rate", "10");
        var view = await demo.WaitForLineAsync(WebView(), TimeSpan.FromSeconds(90));
        await demo.WaitForLineAsync(Steady(), TimeSpan.FromSeconds(60));

        HeadlessBrowser.SignIn(browser, new Uri(view.Groups["url"].Value), view.Groups["token"].Value);
        const string rows = "tr[data-connection]";
        var first = HeadlessBrowser.Read(browser, rows, e => Active(e) ? new Row(e.GetAttribute("data-connection")!, Server(e)) : null);
        // Both bank applications' connections, as the registry has them.
        HeadlessBrowser.Read(browser, rows, e => Active(e) && e.GetAttribute("data-connection") != first.Id ? e.Text : null);
        Assert.Contains("operator", HeadlessBrowser.Read(browser, "#who", e => e.Text));

        var row = $"tr[data-connection='{first.Id}']";
        HeadlessBrowser.Read(browser, row, e => Active(e) ? e.Text : null);
        // Timed in the page: the first change of the row after the click (MIGRATING, or already the new server when the
        // whole move fits between two renders); a poll from here could miss a move that is over in half a second.
        browser.ExecuteScript("""
            const id = arguments[0];
            const now = () => {
              const row = document.querySelector(`tr[data-connection='${id}']`);
              return row ? row.querySelector(".status").textContent + " " + row.querySelector(".server").textContent.split(" → ")[0] : null;
            };
            const before = now();
            window.ocChangedAt = null;
            window.ocChangedTo = null;
            new MutationObserver(() => {
              const seen = now();
              if (window.ocChangedAt === null && seen !== null && seen !== before) { window.ocChangedAt = performance.now(); window.ocChangedTo = seen; }
            }).observe(document.body, { subtree: true, childList: true, characterData: true });
            window.ocClickedAt = performance.now();
            document.querySelector(`tr[data-connection='${id}'] button.failover`).click();
            """, first.Id);
        var clicked = Stopwatch.StartNew();
        object? took;
        while ((took = browser.ExecuteScript("return window.ocChangedAt === null ? null : window.ocChangedAt - window.ocClickedAt;")) is null
            && clicked.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.True(took is not null, $"the page never changed {first.Id}'s row after the click; it says: " +
            $"{browser.ExecuteScript("return document.getElementById('message').textContent;")}");
        var changedAfter = TimeSpan.FromMilliseconds(Convert.ToDouble(took, System.Globalization.CultureInfo.InvariantCulture));
        output.WriteLine($"{first.Id}: the page showed {browser.ExecuteScript("return window.ocChangedTo;")} {changedAfter.TotalMilliseconds:F0} ms after the click");
        Assert.True(changedAfter < TimeSpan.FromSeconds(1), $"the page changed {changedAfter.TotalMilliseconds:F0} ms after the click (limit 1 s)");

        // The demo's sidecar signs on elsewhere and the page says so: the move is real, not just requested.
        var to = HeadlessBrowser.Read(browser, row, e => Active(e) && Server(e) != first.Server ? Server(e) : null, TimeSpan.FromSeconds(15));
        output.WriteLine($"{first.Id}: ACTIVE on {to} (was {first.Server}) {clicked.Elapsed.TotalMilliseconds:F0} ms after the click");
        // What the row says about why it is in its status is the registry's word for ACTIVE, not the move's old "waiting for".
        var detail = HeadlessBrowser.Read(browser, row, e => Active(e) ? e.FindElement(By.CssSelector(".detail")).Text : null);
        Assert.DoesNotContain("waiting for", detail);
        HeadlessBrowser.Read(browser, $"#timeline li[data-connection='{first.Id}']", e => e.Text);
        output.WriteLine($"screenshot: {HeadlessBrowser.Screenshot(browser, "ui-demo-failover.png")}");

        var run = await demo.WaitForExitAsync(TimeSpan.FromSeconds(90));
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}{Environment.NewLine}{run.Output}");
        Assert.Contains("nothing left running", run.Output);
    }

    private static string Status(IWebElement row) => row.FindElement(By.CssSelector(".status")).Text;

    private static bool Active(IWebElement row) => Status(row) == "ACTIVE";

    /// <summary>The server the row says the connection is on (the cell adds " → target" when one is named).</summary>
    private static string Server(IWebElement row) => row.FindElement(By.CssSelector(".server")).Text.Split(" → ")[0];

    private sealed record Row(string Id, string Server);

    [GeneratedRegex(@"web view of the bank controller: (?<url>https?://\S+/ui/) \(sign in with token (?<token>[0-9a-f]{32})")]
    private static partial Regex WebView();

    [GeneratedRegex(@"steady: every connection ACTIVE")]
    private static partial Regex Steady();
}
