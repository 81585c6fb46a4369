namespace Aggregator.Sandbox;

/// <summary>
/// Marks the Sandbox assembly for in-process hosting:
/// <c>new WebApplicationFactory&lt;SandboxEntryPoint&gt;()</c> starts the sandbox.
/// </summary>
public sealed class SandboxEntryPoint
{
    private SandboxEntryPoint()
    {
    }
}
