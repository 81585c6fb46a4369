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
    /// Every PostgreSQL process's CPU time so far, from <c>/proc</c> (the benchmark's cluster on a machine of its own; a
    /// server's backends live as long as the pools' connections, so none is lost in between). Read by the kernel's name
    /// of the process: .NET names a backend by its title (<c>postgres: user db ...</c>), not <c>postgres</c>.
    /// </summary>
    public static TimeSpan OfPostgres()
    {
        // The kernel counts in clock ticks of 1/100 s (USER_HZ) on Linux.
        const double TicksPerSecond = 100;
        long ticks = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out _))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
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
            ticks += long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        }

        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }

    /// <summary>Microseconds of CPU a request, from the CPU time before and after <paramref name="requests"/> requests.</summary>
    public static double PerRequestUs(TimeSpan before, TimeSpan after, long requests) =>
        requests <= 0 ? double.NaN : (after - before).TotalMicroseconds / requests;
}
