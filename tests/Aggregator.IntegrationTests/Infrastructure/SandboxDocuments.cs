using System.Text;
using System.Text.Json.Nodes;
using Aggregator.Sandbox.Tests.Hosting;

namespace Aggregator.IntegrationTests.Infrastructure;

/// <summary>Documents a test adds to a (generated) patient's record at the sandbox, as the provider would have sent them.</summary>
public static class SandboxDocuments
{
    /// <summary>A DocumentReference titled <paramref name="title"/> whose one attachment holds <paramref name="text"/> inline.</summary>
    public static async Task AddNoteAsync(this SandboxProvider sandbox, SandboxLogin login, string contentType, string text, string title)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        ArgumentNullException.ThrowIfNull(login);
        using var added = await sandbox.Server.AddResourceAsync(login.Persona, login.FhirVersion.ToLowerInvariant(), login.PatientId, new JsonObject
        {
            ["resourceType"] = "DocumentReference",
            ["status"] = "current",
            ["type"] = new JsonObject { ["text"] = title },
            ["description"] = title,
            ["subject"] = new JsonObject { ["reference"] = $"Patient/{login.PatientId}" },
            ["date"] = "2024-05-02T10:00:00Z",
            ["content"] = new JsonArray(new JsonObject
            {
                ["attachment"] = new JsonObject
                {
                    ["contentType"] = contentType,
                    ["title"] = title,
                    ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)),
                },
            }),
        });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
    }
}
