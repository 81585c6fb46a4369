namespace Aggregator.Api.Operations;

public sealed class OperatorOptions
{
    public const string Section = "Operator";

    /// <summary>
    /// Basic-auth password for the Hangfire dashboard (user <c>operator</c>). Unset: the dashboard
    /// answers only requests from this machine.
    /// </summary>
    public string? DashboardPassword { get; set; }
}
