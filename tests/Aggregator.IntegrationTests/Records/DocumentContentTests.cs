using System.Net;
using Aggregator.IntegrationTests.Infrastructure;

namespace Aggregator.IntegrationTests.Records;

/// <summary>A provider's document is served as it came, but nothing a browser would run is served inline.</summary>
public sealed class DocumentContentTests(PostgresServer server, SandboxProvider sandbox) : ApiTestBase(server, sandbox, jobServer: true)
{
    [Fact]
    public async Task Plain_text_is_served_inline_and_html_or_svg_only_as_a_sandboxed_download_never_sniffed()
    {
        // A generated person of its own: the documents added here must not show in any other test's record.
        var login = Sandbox.Generated("epic", "R4", 9);
        await Sandbox.AddNoteAsync(login, "text/plain", "Follow-up in six weeks.", "Visit note");
        await Sandbox.AddNoteAsync(login, "text/html", "<html><body><script>alert(1)</script>Discharge letter</body></html>", "Discharge letter");
        await Sandbox.AddNoteAsync(login, "image/svg+xml", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>", "Drawing");
        var (patientId, connectionId) = await Api.ConnectAsync(Tenant, Sandbox, "sandbox-epic-r4", login, "documents-content");
        await Tenant.WaitForRunAsync(connectionId);
        var documents = (await Tenant.GetJsonAsync($"/v1/patients/{patientId}/record/documents?limit=100")).GetProperty("items").EnumerateArray().ToList();

        async Task<HttpResponseMessage> ContentAsync(string title)
        {
            var id = documents.Single(d => d.GetProperty("display").GetString() == title).GetProperty("id").GetGuid();
            return await Tenant.GetAsync(new Uri($"/v1/patients/{patientId}/documents/{id}/content", UriKind.Relative), TestContext.Current.CancellationToken);
        }

        var note = await ContentAsync("Visit note");
        Assert.Equal("text/plain", note.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", note.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Null(note.Content.Headers.ContentDisposition);
        Assert.Equal("Follow-up in six weeks.", await note.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        foreach (var title in new[] { "Discharge letter", "Drawing" })
        {
            var active = await ContentAsync(title);
            Assert.Equal(HttpStatusCode.OK, active.StatusCode);
            Assert.Equal("attachment", active.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal("nosniff", active.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("sandbox", active.Headers.GetValues("Content-Security-Policy").Single());
        }
    }
}
