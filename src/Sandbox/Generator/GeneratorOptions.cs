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

    /// <summary>
    /// Home-monitoring readings (heart rate, oxygen saturation, body weight) that the first generated person's primary
    /// care holds on top of their history, each its own Observation at its own minute (0 by default). The benchmarks
    /// set 50,000 to sync, merge and export a patient as large as the largest real records.
    /// </summary>
    public int HomeReadings { get; set; }
}
