using System.Diagnostics;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OrleansControl.Contract.V1;
using OrleansControl.Gateway.Tests.Infrastructure;
using Xunit.Abstractions;
using static OrleansControl.Gateway.Tests.Infrastructure.GatewayFixture;

namespace OrleansControl.Gateway.Tests;

/// <summary>
/// The web view in a real browser: Debian's headless Chromium driven by Selenium against the gateway on a real port.
/// Skipped, with the reason, where chromium or chromedriver is not installed (test.sh installs both).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class UiBrowserTests(GatewayFixture f, ITestOutputHelper output)
{
    [SkippableFact]
    public async Task An_operator_sees_the_connections_fails_one_over_and_the_page_follows_within_a_second()
    {
        using var browser = StartBrowser();
        var pool = await f.CreatePoolAsync();
        var c = await ActiveConnectionAsync(pool, 12);

        SignIn(browser, GatewayHost.OperatorToken);
        var row = WaitFor(browser, $"tr[data-connection='{c.ConnectionId}']", e => e.FindElement(By.CssSelector(".status")).Text == "ACTIVE");
        Assert.Contains("srv-0", row.FindElement(By.CssSelector(".server")).Text);
        Assert.Contains("operator", browser.FindElement(By.Id("who")).Text);

        var clicked = Stopwatch.StartNew();
        row.FindElement(By.CssSelector("button.failover")).Click();
        WaitFor(browser, $"tr[data-connection='{c.ConnectionId}']", e => e.FindElement(By.CssSelector(".status")).Text == "MIGRATING");
        var changedAfter = clicked.Elapsed;
        var move = WaitFor(browser, $"#timeline li[data-connection='{c.ConnectionId}']", _ => true);
        Assert.Contains("srv-0 → srv-1", move.Text);
        output.WriteLine($"page showed MIGRATING {changedAfter.TotalMilliseconds:F0} ms after the click");
        Assert.True(changedAfter < TimeSpan.FromSeconds(1), $"the page changed {changedAfter.TotalMilliseconds:F0} ms after the click (limit 1 s)");
        // The registry agrees: the button went through the REST API under the operator's token.
        var state = await f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator);
        Assert.Equal((ConnectionStatus.Migrating, "srv-1"), (state.Status, state.FailoverTarget));

        Screenshot(browser, "ui-operator-failover.png");
    }

    [SkippableFact]
    public async Task A_viewer_sees_the_registry_without_buttons()
    {
        using var browser = StartBrowser();
        var pool = await f.CreatePoolAsync();
        var c = await ActiveConnectionAsync(pool, 13);

        SignIn(browser, GatewayHost.ViewerToken);
        var row = WaitFor(browser, $"tr[data-connection='{c.ConnectionId}']", e => e.FindElement(By.CssSelector(".status")).Text == "ACTIVE");
        Assert.Empty(row.FindElements(By.CssSelector("button")));
        Assert.Empty(browser.FindElements(By.CssSelector($"div[data-pool='{pool}'] button")));
        WaitFor(browser, $"div[data-pool='{pool}'] tr[data-server='srv-0']", _ => true);
        Assert.Contains("read-only", browser.FindElement(By.Id("who")).Text);
        Screenshot(browser, "ui-viewer.png");
    }

    [SkippableFact]
    public void Without_a_credential_the_page_asks_for_one()
    {
        using var browser = StartBrowser();
        browser.Navigate().GoToUrl(new Uri(f.Host.RestAddress, "/ui/"));
        var form = WaitFor(browser, "#signin", e => e.Displayed);
        Assert.True(form.Displayed);
        Assert.Contains("bearer token", WaitFor(browser, "#message", e => e.Displayed).Text);
    }

    /// <summary>A connection whose sidecar (on a real stream) says it is signed on at srv-0.</summary>
    private async Task<Connection> ActiveConnectionAsync(string pool, int sidecar)
    {
        var c = (await f.Controller.RegisterConnectionAsync(
            new RegisterConnectionRequest { ClientId = $"ui-client-{sidecar}", ServerPool = pool, PreferredServer = "srv-0" }, Sidecar(sidecar))).Connection;
        var (stream, _) = await SidecarStream.AttachAsync(f.Sidecars, Sidecar(sidecar), $"sidecar-{sidecar}");
        await stream.SendAsync(new SidecarMessage
        {
            Heartbeat = new Heartbeat
            {
                ConnectionId = c.ConnectionId,
                EchoRttMs = 4,
                SentAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
                LinkState = LinkState.SignedOn,
                ServerAddress = c.ServerAddress,
            },
        });
        await Eventually.Until(
            () => f.Controller.GetConnectionAsync(new GetConnectionRequest { ConnectionId = c.ConnectionId }, Operator).ResponseAsync,
            x => x.Status == ConnectionStatus.Active);
        await stream.DisposeAsync();
        return c;
    }

    private void SignIn(ChromeDriver browser, string token) => HeadlessBrowser.SignIn(browser, new Uri(f.Host.RestAddress, "/ui/"), token);

    private static ChromeDriver StartBrowser() => HeadlessBrowser.Start();

    private static IWebElement WaitFor(ChromeDriver browser, string css, Func<IWebElement, bool> ready) => HeadlessBrowser.WaitFor(browser, css, ready);

    private void Screenshot(ChromeDriver browser, string name) => output.WriteLine($"screenshot: {HeadlessBrowser.Screenshot(browser, name)}");
}
