using System.Globalization;
using System.Text.RegularExpressions;

namespace Aggregator.Sandbox.FhirData;

/// <summary>FHIR date, dateTime and instant values read as the time range their precision covers.</summary>
public static partial class FhirDateTime
{
    [GeneratedRegex(@"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>
    /// Parses a value into <c>[start, end)</c>: <c>2020</c> covers the year, <c>2020-05-01T10:00:00Z</c> one second.
    /// A value without a zone is read as UTC.
    /// </summary>
    public static bool TryParseRange(string? text, out DateTimeOffset start, out DateTimeOffset end)
    {
        start = end = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var match = Pattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        try
        {
            var year = Number(match.Groups[1]);
            var month = match.Groups[2].Success ? Number(match.Groups[2]) : 1;
            var day = match.Groups[3].Success ? Number(match.Groups[3]) : 1;
            var hour = match.Groups[4].Success ? Number(match.Groups[4]) : 0;
            var minute = match.Groups[5].Success ? Number(match.Groups[5]) : 0;
            var second = match.Groups[6].Success ? Number(match.Groups[6]) : 0;
            var offset = TimeSpan.Zero;
            if (match.Groups[8].Success && match.Groups[8].Value != "Z")
            {
                var zone = match.Groups[8].Value;
                offset = new TimeSpan(Number(zone.AsSpan(1, 2)), Number(zone.AsSpan(4, 2)), 0);
                if (zone[0] == '-')
                {
                    offset = -offset;
                }
            }

            start = new DateTimeOffset(year, month, day, hour, minute, second, offset);
            if (match.Groups[7].Success)
            {
                var fraction = match.Groups[7].Value[1..].PadRight(7, '0');
                start = start.AddTicks(Number(fraction.AsSpan()));
                end = start.AddTicks(1);
            }
            else if (match.Groups[6].Success)
            {
                end = start.AddSeconds(1);
            }
            else if (match.Groups[4].Success)
            {
                end = start.AddMinutes(1);
            }
            else if (match.Groups[3].Success)
            {
                end = start.AddDays(1);
            }
            else if (match.Groups[2].Success)
            {
                end = start.AddMonths(1);
            }
            else
            {
                end = start.AddYears(1);
            }

            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>Formats an instant the way FHIR <c>instant</c> values are written (UTC, milliseconds only when present).</summary>
    public static string FormatInstant(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        var format = utc.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        return utc.ToString(format, CultureInfo.InvariantCulture);
    }

    private static int Number(Group group) => Number(group.ValueSpan);

    private static int Number(ReadOnlySpan<char> digits) => int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
}
