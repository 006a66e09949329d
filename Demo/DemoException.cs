namespace OrleansControl.Demo;

/// <summary>The demo could not do what it set out to do (a process did not start, a port is taken): said in words.</summary>
internal sealed class DemoException(string message, Exception? inner = null) : Exception(message, inner);
