namespace OrleansControl.Grains;

/// <summary>Names the silo must register providers under.</summary>
public static class ControllerStorage
{
    /// <summary>Grain storage for connection and pool state (memory or Redis).</summary>
    public const string Name = "controller";

    /// <summary>Orleans' stream pub-sub bookkeeping.</summary>
    public const string PubSub = "PubSubStore";
}
