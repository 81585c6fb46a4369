using System.Globalization;

namespace Aggregator.Web.App;

/// <summary>The companion app's words for categories, dates and statuses, in one place.</summary>
public static class AppText
{
    private static readonly Dictionary<string, string> Categories = new(StringComparer.Ordinal)
    {
        ["conditions"] = "Conditions",
        ["medications"] = "Medicines",
        ["allergies"] = "Allergies",
        ["labs"] = "Lab results",
        ["vitals"] = "Vital signs",
        ["social-history"] = "Social history",
        ["surveys"] = "Questionnaires",
        ["exams"] = "Exam findings",
        ["observations"] = "Other observations",
        ["immunizations"] = "Immunizations",
        ["procedures"] = "Procedures",
        ["encounters"] = "Visits",
        ["diagnostic-reports"] = "Reports",
        ["documents"] = "Documents",
        ["care-plans"] = "Care plans",
        ["goals"] = "Goals",
        ["devices"] = "Devices",
        ["care-team"] = "Care team",
        ["coverage"] = "Insurance",
        ["claims"] = "Claims",
        ["imaging-studies"] = "Imaging",
        ["demographics"] = "About you",
    };

    public static string Category(string category) =>
        Categories.TryGetValue(category, out var name) ? name : CultureInfo.InvariantCulture.TextInfo.ToTitleCase(category.Replace('-', ' '));

    /// <summary>A fact's date as a patient reads it (instants in UTC become their date).</summary>
    public static string Date(string? effective) =>
        effective is null ? "Undated"
        : DateTimeOffset.TryParse(effective, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at.UtcDateTime.ToString("d MMM yyyy", CultureInfo.InvariantCulture)
            : effective;

    public static string When(DateTimeOffset? at) =>
        at is { } value ? value.UtcDateTime.ToString("d MMM yyyy, HH:mm 'UTC'", CultureInfo.InvariantCulture) : "never";

    public static string Connection(string status) => status switch
    {
        "active" => "Connected",
        "reauth_required" => "Needs you to sign in again",
        "revoked" => "Disconnected",
        "failed" => "Could not connect",
        _ => status,
    };

    public static string MergeRule(string? rule) => rule switch
    {
        null => "Only one provider states this.",
        "identifier" => "The providers gave it the same identifier.",
        "code+time" => "Same code, at the same time.",
        "code+time+value" => "Same test, at the same time, with the same value (after converting units).",
        "display+time" => "Same name, at the same time (no shared code).",
        "same-patient" => "Every provider's record of you is one person.",
        _ => rule,
    };
}
