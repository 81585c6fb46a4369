using System.Runtime.InteropServices;

namespace Aggregator.Benchmarks;

/// <summary>
/// What a run leaves behind while it works (its hosts as processes, a throwaway PostgreSQL cluster) is stopped when the
/// run is told to stop (SIGTERM from <c>timeout</c> or an orchestrator, Ctrl-C, a closed terminal) as it is at a normal
/// end, newest first. A left-over Api beside the next run would share its cores and skew every figure. SIGKILL cannot be
/// caught: after one, the processes under <c>/var/tmp/aggregator-bench-*</c> and the hosts started from this build are
/// left to stop by hand.
/// </summary>
internal static class BenchCleanup
{
    private static readonly List<IAsyncDisposable> Running = [];
    private static readonly ManualResetEventSlim Stopped = new();
    private static int _stopping;
    private static int _exiting;
    private static readonly PosixSignalRegistration[] Signals =
    [
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop),
        PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop),
        PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop),
    ];

    static BenchCleanup()
    {
        // The run's own code fails once the cluster is gone under it, or returns: either way the process waits until
        // the stop has finished.
        AppDomain.CurrentDomain.UnhandledException += (_, _) => WaitIfStopping();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Volatile.Write(ref _exiting, 1);
            WaitIfStopping();
        };
    }

    private static void WaitIfStopping()
    {
        if (Volatile.Read(ref _stopping) == 1)
        {
            Stopped.Wait();
        }
    }

    /// <summary>Stopped on a signal unless <see cref="Forget"/> says it has already gone.</summary>
    public static void Add(IAsyncDisposable running)
    {
        GC.KeepAlive(Signals);
        lock (Running)
        {
            Running.Add(running);
        }
    }

    public static void Forget(IAsyncDisposable running)
    {
        lock (Running)
        {
            Running.Remove(running);
        }
    }

    private static void Stop(PosixSignalContext context)
    {
        // Handled here: the run ends once what it started has stopped, with the code the signal would have given it.
        context.Cancel = true;
        if (Interlocked.Exchange(ref _stopping, 1) == 1)
        {
            // A second signal (dotnet run passes one on as well): the first is already stopping everything.
            return;
        }

        Console.Error.WriteLine($"{context.Signal}: stopping what the run started.");
        List<IAsyncDisposable> stopping;
        lock (Running)
        {
            stopping = [.. Running];
            stopping.Reverse();
        }

        try
        {
            foreach (var running in stopping)
            {
                try
                {
                    running.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
                {
                    Console.Error.WriteLine($"Could not stop {running}: {ex.Message}");
                }
            }
        }
        finally
        {
            // Whatever happened above, nothing waiting for the stop waits for ever.
            Stopped.Set();
        }

        if (Volatile.Read(ref _exiting) == 0)
        {
            // Unless the run has already returned, and the process is ending on its own.
            Environment.Exit(128 + context.Signal switch { PosixSignal.SIGHUP => 1, PosixSignal.SIGINT => 2, _ => 15 });
        }
    }
}
