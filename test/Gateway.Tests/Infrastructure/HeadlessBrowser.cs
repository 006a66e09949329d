using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace OrleansControl.Gateway.Tests.Infrastructure;

/// <summary>
/// Debian's headless Chromium driven by Selenium (the flags that work here: ../shared/NOTES.md). Tests that need it are
/// skipped, with the reason, where chromium or chromedriver is not installed (test.sh installs both).
/// </summary>
internal static class HeadlessBrowser
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Driver = "/usr/bin/chromedriver";

    /// <param name="acceptInsecureCertificates">For a page served with a certificate of a CA made for the run (the demo's).</param>
    public static ChromeDriver Start(bool acceptInsecureCertificates = false)
    {
        Skip.IfNot(File.Exists(Chromium) && File.Exists(Driver),
            $"browser tests need Debian's chromium and chromium-driver ({Chromium}, {Driver}); test.sh installs them");
        var options = new ChromeOptions { BinaryLocation = Chromium, AcceptInsecureCertificates = acceptInsecureCertificates };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--window-size=1400,1000");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(Driver)!, Path.GetFileName(Driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    /// <summary>Opens the web view at <paramref name="page"/> signed in with a bearer token (as its sign-in form keeps it).</summary>
    public static void SignIn(ChromeDriver browser, Uri page, string token)
    {
        browser.Navigate().GoToUrl(page);
        browser.ExecuteScript("sessionStorage.setItem('oc.token', arguments[0]);", token);
        browser.Navigate().Refresh();
    }

    /// <summary>Waits up to <paramref name="within"/> (10 s unless told) for an element matching <paramref name="css"/> that satisfies <paramref name="ready"/>.</summary>
    public static IWebElement WaitFor(ChromeDriver browser, string css, Func<IWebElement, bool> ready, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(10);
        var deadline = DateTime.UtcNow + limit;
        for (; ; )
        {
            try
            {
                foreach (var e in browser.FindElements(By.CssSelector(css)))
                {
                    if (ready(e)) return e;
                }
            }
            catch (StaleElementReferenceException)
            {
                // the page re-rendered between find and check: look again
            }
            catch (NoSuchElementException)
            {
                // a child is not rendered yet
            }
            if (DateTime.UtcNow > deadline)
            {
                var found = browser.FindElements(By.CssSelector(css)).Select(e => e.Text).Take(5).ToList();
                throw new TimeoutException($"no element '{css}' in the required state within {limit.TotalSeconds:0} s " +
                    (found.Count == 0 ? "(none on the page)" : $"(on the page: {string.Join(" | ", found)})"));
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// What <paramref name="read"/> gives (not null) for an element matching <paramref name="css"/>, within 10 s unless told:
    /// read while the element is current (a page that re-renders makes a kept element stale), a click included.
    /// </summary>
    public static T Read<T>(ChromeDriver browser, string css, Func<IWebElement, T?> read, TimeSpan? within = null)
        where T : class
    {
        T? value = null;
        WaitFor(browser, css, e => (value = read(e)) is not null, within);
        return value!;
    }

    /// <summary>Kept as a test artifact (ORLEANSCONTROL_ARTIFACTS, which test.sh points into its results); returns its path.</summary>
    public static string Screenshot(ChromeDriver browser, string name)
    {
        var dir = Environment.GetEnvironmentVariable("ORLEANSCONTROL_ARTIFACTS") ?? Path.Combine(Path.GetTempPath(), "orleanscontrol-artifacts");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        browser.GetScreenshot().SaveAsFile(path);
        return path;
    }
}
