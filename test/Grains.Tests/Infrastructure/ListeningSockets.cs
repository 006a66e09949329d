using System.Globalization;
using System.Net;

namespace OrleansControl.Grains.Tests.Infrastructure;

/// <summary>
/// The TCP sockets a process listens on, as the kernel lists them (/proc/net/tcp and tcp6, matched to the process's
/// file descriptors by inode): what <c>ss -ltnp</c> shows, without needing ss.
/// </summary>
public static class ListeningSockets
{
    public static IReadOnlyList<IPEndPoint> Of(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)) inodes.Add(target[8..^1]);
            }
            catch (IOException)
            {
                // closed meanwhile
            }
        }
        return [.. Read("/proc/net/tcp", inodes), .. Read("/proc/net/tcp6", inodes)];
    }

    private static IEnumerable<IPEndPoint> Read(string table, HashSet<string> inodes)
    {
        if (!File.Exists(table)) yield break;
        foreach (var line in File.ReadLines(table).Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 10 || f[3] != "0A" || !inodes.Contains(f[9])) continue; // 0A: LISTEN
            var (address, port) = (f[1][..f[1].IndexOf(':')], f[1][(f[1].IndexOf(':') + 1)..]);
            var bytes = Convert.FromHexString(address);
            // The kernel prints each 32-bit word in host (little-endian) order.
            for (var i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
            yield return new IPEndPoint(new IPAddress(bytes), int.Parse(port, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
    }
}
