using OrleansControl.Demo;

// The whole seed on one machine, one command: see DemoRun and README.md ("Other things you can run").
return await DemoRun.RunAsync(args);
