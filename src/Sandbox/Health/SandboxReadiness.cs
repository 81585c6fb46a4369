using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aggregator.Sandbox.Health;

/// <summary>Start-up work the sandbox waits for before it answers <c>/health/ready</c> with 200.</summary>
public sealed class SandboxReadiness
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private string? _failure;

    public SandboxReadiness(IEnumerable<string> steps)
    {
        _pending.UnionWith(steps);
    }

    public bool IsReady
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count == 0 && _failure is null;
            }
        }
    }

    public void Completed(string step)
    {
        lock (_gate)
        {
            _pending.Remove(step);
        }
    }

    public void Failed(string step)
    {
        lock (_gate)
        {
            _failure = $"{step} failed; see the log.";
        }
    }

    public HealthCheckResult Check()
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                return HealthCheckResult.Unhealthy(_failure);
            }

            return _pending.Count == 0
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"Still starting: {string.Join(", ", _pending.Order(StringComparer.Ordinal))}.");
        }
    }
}

public sealed class ReadinessHealthCheck(SandboxReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.Check());
}
