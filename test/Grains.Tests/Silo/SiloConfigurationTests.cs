using Microsoft.Extensions.Options;

namespace OrleansControl.Grains.Tests.Silo;

public sealed class SiloConfigurationTests
{
    [Theory]
    [InlineData("Controller:Clustering", "redis", "Controller:Redis")]
    [InlineData("Controller:Storage", "redis", "Controller:Redis")]
    [InlineData("Controller:Clustering", "zookeeper", "Controller:Clustering")]
    [InlineData("Controller:Role", "acquirer", "Controller:Role")]
    [InlineData("Controller:Streams", "kafka", "Controller:Streams")]
    [InlineData("Controller:SiloPort", "0", "Controller:SiloPort")]
    [InlineData("Controller:Region", "", "Controller:Region")]
    [InlineData("Controller:AdvertisedAddress", "not-an-ip", "Controller:AdvertisedAddress")]
    [InlineData("Controller:Health:HeartbeatInterval", "00:00:00.500", "Controller:Health:HeartbeatInterval")]
    [InlineData("Controller:Health:MissedHeartbeatsBeforeFailed", "0", "Controller:Health:MissedHeartbeatsBeforeFailed")]
    [InlineData("Controller:Health:MoveDeadline", "00:00:00.010", "Controller:Health:MoveDeadline")]
    [InlineData("Controller:Health:MaxMoveAttempts", "0", "Controller:Health:MaxMoveAttempts")]
    [InlineData("Controller:Ejection:MaxEjectionPercent", "0", "Controller:Ejection:MaxEjectionPercent")]
    [InlineData("Controller:Ejection:BaseEjectionTime", "00:00:00", "Controller:Ejection:BaseEjectionTime")]
    public void Invalid_setting_stops_start_up_and_names_the_setting(string key, string value, string named)
    {
        var settings = SiloHost.Ports();
        settings[key] = value;
        var error = Assert.ThrowsAny<OptionsValidationException>(() => SiloHost.Build(settings));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
