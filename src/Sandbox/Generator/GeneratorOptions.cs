namespace Aggregator.Sandbox.Generator;

/// <summary><c>Sandbox:Generator</c>: how many synthetic people to make, and from which seed.</summary>
public sealed class GeneratorOptions
{
    /// <summary>The same seed always makes the same people, byte for byte.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>How many people to generate; 0 turns the generator off.</summary>
    public int People { get; set; }

    /// <summary>
    /// How much of what primary care and the specialty clinic each record is also sent to the other (0 to 1; 0 by
    /// default), as health-information exchange does: problems, medicines, allergies, lab results, immunizations and
    /// vital signs. The demo raises it so that a patient's two providers state many of the same facts.
    /// </summary>
    public double ExchangedShare { get; set; }
}
