namespace Aggregator.Sandbox.Generator;

/// <summary><c>Sandbox:Generator</c>: how many synthetic people to make, and from which seed.</summary>
public sealed class GeneratorOptions
{
    /// <summary>The same seed always makes the same people, byte for byte.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>How many people to generate; 0 turns the generator off.</summary>
    public int People { get; set; }
}
