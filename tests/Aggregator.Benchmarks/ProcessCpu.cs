using System.Diagnostics;

namespace Aggregator.Benchmarks;

/// <summary>
/// The CPU time processes have used so far (user and system, as the kernel counts it): read before and after a load run,
/// it gives what one request cost each process. Unlike requests a second, it does not move with what else shares the cores
/// in that run, so it shows a change of a few percent that the throughput's swing between runs hides.
/// </summary>
internal static class ProcessCpu
{
    /// <summary>One process's CPU time so far; zero once it has gone.</summary>
    public static TimeSpan Of(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.TotalProcessorTime;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>
    /// Each PostgreSQL process's CPU time so far, by process id, from <c>/proc</c> (the benchmark's cluster on a machine of
    /// its own). Read by the kernel's name of the process: .NET names a backend by its title (<c>postgres: user db ...</c>).
    /// </summary>
    public static Dictionary<int, TimeSpan> OfPostgres()
    {
        // The kernel counts in clock ticks of 1/100 s (USER_HZ) on Linux.
        const double TicksPerSecond = 100;
        var times = new Dictionary<int, TimeSpan>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            // pid (comm) state ppid ...: utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
            var close = stat.LastIndexOf(')');
            if (close < 0 || stat.IndexOf('(', StringComparison.Ordinal) is var open && stat[(open + 1)..close] != "postgres")
            {
                continue;
            }

            var fields = stat[(close + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            times[pid] = TimeSpan.FromSeconds(ticks / TicksPerSecond);
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

    /// <summary>Microseconds of CPU a request, from the CPU time before and after <paramref name="requests"/> requests.</summary>
    public static double PerRequestUs(TimeSpan before, TimeSpan after, long requests) =>
        requests <= 0 ? double.NaN : (after - before).TotalMicroseconds / requests;
}
