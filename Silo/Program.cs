using OrleansControl.Silo.Extensions;

// Exit code 2 when it cannot start (settings, a port in use), with a message naming what is wrong: SiloStartup.
return await SiloStartup.RunAsync(args);

/// <summary>Entry point type, public so tests can use WebApplicationFactory&lt;Program&gt;.</summary>
public partial class Program;
