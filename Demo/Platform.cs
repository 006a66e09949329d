// The demo runs processes with setsid, signals them with kill, and black-holes servers with network namespaces: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
