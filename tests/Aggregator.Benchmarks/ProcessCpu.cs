using System.Globalization;

namespace Aggregator.Benchmarks;

/// <summary>
/// The CPU time processes have used so far (user and system, as the kernel counts it in <c>/proc/{pid}/stat</c>): read
/// before and after a load run, it gives what one request cost each process. Unlike requests a second, it does not move
/// with what else shares the cores in that run, so it shows a change of a few percent that the throughput's swing between
/// runs hides.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>The kernel counts in clock ticks of 1/100 s (USER_HZ) on Linux.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>One process's CPU time so far; zero once it has gone.</summary>
    public static TimeSpan Of(int pid) =>
        Read(Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture))) is { } stat ? stat.Used : TimeSpan.Zero;

    /// <summary>
    /// Each PostgreSQL process's CPU time so far, by process id (the benchmark's cluster on a machine of its own). Found by
    /// the kernel's name of the process: .NET names a backend by its title (<c>postgres: user db ...</c>).
    /// </summary>
    public static Dictionary<int, TimeSpan> OfPostgres()
    {
        var times = new Dictionary<int, TimeSpan>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && Read(directory) is ("postgres", var used))
            {
                times[pid] = used;
            }
        }

        return times;
    }

    /// <summary>
    /// What the PostgreSQL processes used between two readings: the growth of those alive at both, and all of those started
    /// in between. A backend that ended in between (a pool pruning an idle connection) is left out: what it used in the
    /// window is lost with it, and subtracting its whole life would make the figure negative.
    /// </summary>
    public static TimeSpan Between(Dictionary<int, TimeSpan> before, Dictionary<int, TimeSpan> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var used = TimeSpan.Zero;
        foreach (var (pid, time) in after)
        {
            used += before.TryGetValue(pid, out var earlier) ? time - earlier : time;
        }

        return used;
    }

    /// <summary>Microseconds of CPU a request: <paramref name="used"/> over <paramref name="requests"/> requests.</summary>
    public static double PerRequestUs(TimeSpan used, long requests) => requests <= 0 ? double.NaN : used.TotalMicroseconds / requests;

    /// <summary>A process's name and CPU time from its <c>stat</c>; none when it has gone or cannot be read.</summary>
    private static (string Name, TimeSpan Used)? Read(string directory)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(directory, "stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // pid (comm) state ppid ...: utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }

        var fields = stat[(close + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (stat[(open + 1)..close], TimeSpan.FromSeconds(ticks / TicksPerSecond));
    }
}
