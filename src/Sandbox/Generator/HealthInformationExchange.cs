namespace Aggregator.Sandbox.Generator;

/// <summary>
/// What health-information exchange does to a person's records: a share of what primary care and the specialty clinic
/// each recorded is sent to the other and kept there too (a holding with no visit of its own), so both state the same
/// fact, each in its own way. Deterministic: the same seed, person and share give the same exchange.
/// </summary>
public static class HealthInformationExchange
{
    private static readonly HashSet<FactCategory> Exchanged =
    [
        FactCategory.Conditions, FactCategory.Medications, FactCategory.Allergies, FactCategory.Labs, FactCategory.Immunizations, FactCategory.Vitals,
    ];

    public static GeneratedPerson Share(GeneratedPerson person, int seed, double share)
    {
        ArgumentNullException.ThrowIfNull(person);
        if (share <= 0)
        {
            return person;
        }

        var random = SeededRandom.For(seed, person.PersonId + ":exchange");
        var percent = (int)Math.Round(Math.Clamp(share, 0, 1) * 100);
        var facts = person.Facts.Select(fact =>
        {
            if (!Exchanged.Contains(fact.Category) || fact.Holdings.Count != 1 || !random.Chance(percent))
            {
                return fact;
            }

            var from = fact.Holdings[0].Site;
            var to = from switch
            {
                CareSite.PrimaryCare => CareSite.Specialty,
                CareSite.Specialty => CareSite.PrimaryCare,
                _ => (CareSite?)null,
            };
            return to is { } site ? fact with { Holdings = [.. fact.Holdings, new Holding(site)] } : fact;
        }).ToList();
        return new GeneratedPerson(person.PersonId, person.Demographics, facts);
    }
}
