using OrleansControl.Sidecar.Hosting;

// The sidecar container; exit code 2 when it cannot start (settings, a port in use), with a message naming what is
// wrong: SidecarStartup.
return await SidecarStartup.RunAsync(args);
