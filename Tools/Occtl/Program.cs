using OrleansControl.Occtl;

return await OcctlApp.RunAsync(args, OcctlHost.FromProcess());
