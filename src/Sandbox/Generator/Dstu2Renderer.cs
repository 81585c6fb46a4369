using System.Text;
using System.Text.Json.Nodes;
using static Aggregator.Sandbox.Generator.FhirJson;

namespace Aggregator.Sandbox.Generator;

/// <summary>
/// Writes facts as FHIR DSTU2 (Argonaut shaped) resources: <c>patient</c> instead of <c>subject</c> where DSTU2 has it,
/// MedicationOrder, code strings for statuses and classes, single CodeableConcepts where R4 has lists.
/// </summary>
public static class Dstu2Renderer
{
    private const string Hl7 = "http://hl7.org/fhir/";

    public static JsonObject Patient(SiteRendering at)
    {
        var person = at.Person.Demographics;
        return new JsonObject
        {
            ["resourceType"] = "Patient",
            ["id"] = at.PatientId,
            ["meta"] = Meta(SiteRecords.LastRecord(at)),
            ["identifier"] = new JsonArray(new JsonObject
            {
                ["use"] = "usual",
                ["type"] = Concept(Coding(Hl7 + "v2/0203", "MR", "Medical record number"), "MRN"),
                ["system"] = $"https://sandbox.aggregator.example/{at.Site.Persona}/mrn",
                ["value"] = at.Mrn,
            }),
            ["active"] = true,
            ["name"] = new JsonArray(new JsonObject
            {
                ["use"] = "official",
                ["family"] = new JsonArray(person.Family),
                ["given"] = new JsonArray(person.Given),
            }),
            ["telecom"] = new JsonArray(new JsonObject { ["system"] = "phone", ["value"] = person.Phone, ["use"] = "home" }),
            ["gender"] = person.Gender == Gender.Female ? "female" : "male",
            ["birthDate"] = Date(person.BirthDate),
            ["address"] = new JsonArray(new JsonObject
            {
                ["use"] = "home",
                ["line"] = new JsonArray(person.Street),
                ["city"] = person.City,
                ["state"] = person.State,
                ["postalCode"] = person.PostalCode,
                ["country"] = "US",
            }),
            ["maritalStatus"] = Concept(Coding(Hl7 + "v3/MaritalStatus", person.MaritalStatus, VisitTypes.MaritalStatusDisplay(person.MaritalStatus))),
            ["communication"] = new JsonArray(new JsonObject
            {
                ["language"] = Concept(Coding("urn:ietf:bcp:47", "en-US", "English (United States)")),
                ["preferred"] = true,
            }),
            ["careProvider"] = new JsonArray(Reference("Practitioner", at.PractitionerId, at.PractitionerName)),
            ["managingOrganization"] = Reference("Organization", at.OrganizationId, at.Site.OrganizationName),
        };
    }

    public static JsonObject Organization(SiteConventions site, string idPrefix) => new()
    {
        ["resourceType"] = "Organization",
        ["id"] = SiteRendering.OrganizationIdOf(site, idPrefix),
        ["meta"] = Meta(SiteRecords.Established),
        ["active"] = true,
        ["type"] = Concept(Coding(Hl7 + "organization-type", "prov", "Healthcare Provider")),
        ["name"] = site.OrganizationName,
        ["telecom"] = new JsonArray(new JsonObject { ["system"] = "phone", ["value"] = site.OrganizationPhone, ["use"] = "work" }),
        ["address"] = new JsonArray(new JsonObject { ["line"] = new JsonArray("800 Medical Center Drive"), ["city"] = "Springfield", ["state"] = "IL", ["postalCode"] = "62702", ["country"] = "US" }),
    };

    public static JsonObject Practitioner(SiteConventions site, string idPrefix) => new()
    {
        ["resourceType"] = "Practitioner",
        ["id"] = SiteRendering.PractitionerIdOf(site, idPrefix),
        ["meta"] = Meta(SiteRecords.Established),
        ["identifier"] = new JsonArray(new JsonObject { ["system"] = "http://hl7.org/fhir/sid/us-npi", ["value"] = site.ClinicianNpi }),
        ["active"] = true,
        ["name"] = new JsonObject
        {
            ["family"] = new JsonArray(site.ClinicianFamily),
            ["given"] = new JsonArray(site.ClinicianGiven),
            ["prefix"] = new JsonArray("Dr."),
        },
    };

    public static IEnumerable<JsonObject> Render(ClinicalFact fact, SiteRendering at)
    {
        var resource = fact switch
        {
            EncounterFact encounter => Encounter(encounter, at),
            ConditionFact condition => Condition(condition, at),
            MedicationFact medication => MedicationOrder(medication, at),
            AllergyFact allergy => AllergyIntolerance(allergy, at),
            ObservationFact observation => Observation(observation, at),
            ImmunizationFact immunization => Immunization(immunization, at),
            ProcedureFact procedure => Procedure(procedure, at),
            DiagnosticReportFact report => DiagnosticReport(report, at),
            DocumentFact document => DocumentReference(document, at),
            CarePlanFact plan => CarePlan(plan, at),
            GoalFact goal => Goal(goal, at),
            _ => throw new InvalidOperationException($"No DSTU2 rendering for {fact.GetType().Name}."),
        };
        yield return resource;
        if (fact is DocumentFact { Delivery: DocumentDelivery.Binary } binary)
        {
            yield return new JsonObject
            {
                ["resourceType"] = "Binary",
                ["id"] = at.BinaryIdOf(fact.FactId),
                ["meta"] = Meta(fact.Recorded),
                ["contentType"] = "text/plain",
                ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(binary.Text)),
            };
        }
    }

    private static JsonObject Start(string type, ClinicalFact fact, SiteRendering at) => new()
    {
        ["resourceType"] = type,
        ["id"] = at.IdOf(fact.FactId),
        ["meta"] = Meta(fact.Recorded),
    };

    private static JsonObject PatientReference(SiteRendering at) => Reference("Patient", at.PatientId, at.PatientName);

    private static void Encounter(JsonObject resource, ClinicalFact fact, SiteRendering at)
    {
        if (at.EncounterIdOf(fact) is { } encounter)
        {
            resource["encounter"] = Reference("Encounter", encounter);
        }
    }

    private static JsonObject Encounter(EncounterFact fact, SiteRendering at)
    {
        var (snomed, cpt, text, encounterClass) = VisitTypes.Of(fact.Kind, at.Age(fact.Start));
        var resource = Start("Encounter", fact, at);
        resource["status"] = "finished";
        resource["class"] = encounterClass == EncounterClass.Emergency ? "emergency" : "ambulatory";
        resource["type"] = new JsonArray(Concept(text, cpt is null ? [snomed] : [snomed, cpt]));
        resource["patient"] = PatientReference(at);
        resource["participant"] = new JsonArray(new JsonObject
        {
            ["type"] = new JsonArray(Concept(Coding(Hl7 + "v3/ParticipationType", "PPRF", "primary performer"))),
            ["individual"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName),
        });
        resource["period"] = Period(fact.Start, fact.End);
        if (fact.ReasonFactId is { } reason && at.Holds(reason) && at.Person.Fact(reason) is ConditionFact condition)
        {
            resource["reason"] = new JsonArray(Concept(condition.Condition.Text, R4Renderer.ConditionCodes(condition.Condition, at.Site)));
            resource["indication"] = References("Condition", [at.IdOf(reason)]);
        }

        resource["serviceProvider"] = Reference("Organization", at.OrganizationId, at.Site.OrganizationName);
        return resource;
    }

    private static JsonObject Condition(ConditionFact fact, SiteRendering at)
    {
        var resource = Start("Condition", fact, at);
        resource["patient"] = PatientReference(at);
        Encounter(resource, fact, at);
        resource["asserter"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName);
        resource["dateRecorded"] = Date(fact.RecordedAt);
        resource["code"] = Concept(fact.Condition.Text, R4Renderer.ConditionCodes(fact.Condition, at.Site));
        resource["category"] = Concept(Coding(Hl7 + "condition-category", "diagnosis", "Diagnosis"));
        resource["clinicalStatus"] = fact.Abatement is null ? "active" : "resolved";
        resource["verificationStatus"] = "confirmed";
        resource["onsetDateTime"] = Date(fact.Onset);
        if (fact.Abatement is { } abatement)
        {
            resource["abatementDateTime"] = Date(abatement);
        }

        return resource;
    }

    private static JsonObject MedicationOrder(MedicationFact fact, SiteRendering at)
    {
        var medicine = fact.Medication;
        var resource = Start("MedicationOrder", fact, at);
        resource["dateWritten"] = Instant(fact.Authored);
        resource["status"] = fact.Status switch { MedicationStatus.Active => "active", MedicationStatus.Stopped => "stopped", _ => "completed" };
        resource["patient"] = PatientReference(at);
        resource["prescriber"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName);
        Encounter(resource, fact, at);
        if (fact.ReasonFactId is { } reason && at.Holds(reason))
        {
            resource["reasonReference"] = Reference("Condition", at.IdOf(reason));
        }

        resource["medicationCodeableConcept"] = Concept(medicine.RxNorm.Display, medicine.RxNorm);
        var dosage = new JsonObject { ["text"] = medicine.Instructions };
        if (medicine.AsNeeded)
        {
            dosage["asNeededBoolean"] = true;
        }

        dosage["timing"] = new JsonObject { ["repeat"] = new JsonObject { ["frequency"] = medicine.TimesPerDay, ["period"] = 1, ["periodUnits"] = "d" } };
        dosage["route"] = medicine.DoseForm.StartsWith('{')
            ? Concept(Coding(CodeSystems.Snomed, "447694001", "Respiratory tract route (qualifier value)"))
            : Concept(Coding(CodeSystems.Snomed, "26643006", "Oral route (qualifier value)"));
        dosage["doseQuantity"] = medicine.DoseForm.StartsWith('{')
            ? Quantity(medicine.Dose, medicine.DoseUnit, CodeSystems.Ucum, medicine.DoseForm)
            : Quantity(medicine.Dose, medicine.DoseUnit, Hl7 + "v3/orderableDrugForm", medicine.DoseForm);
        resource["dosageInstruction"] = new JsonArray(dosage);
        return resource;
    }

    private static JsonObject AllergyIntolerance(AllergyFact fact, SiteRendering at)
    {
        var allergy = fact.Allergy;
        var resource = Start("AllergyIntolerance", fact, at);
        resource["recordedDate"] = Instant(fact.RecordedAt);
        resource["patient"] = PatientReference(at);
        resource["recorder"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName);
        resource["substance"] = Concept(allergy.Code.Display, allergy.Code);
        resource["status"] = "confirmed";
        resource["criticality"] = allergy.HighCriticality ? "CRITH" : "CRITL";
        resource["type"] = "allergy";
        resource["category"] = allergy.Category switch
        {
            AllergyCategory.Food => "food",
            AllergyCategory.Medication => "medication",
            _ => "environment",
        };
        resource["reaction"] = new JsonArray(new JsonObject
        {
            ["manifestation"] = new JsonArray(Concept(allergy.Reaction.Display, allergy.Reaction)),
            ["severity"] = allergy.HighCriticality ? "severe" : "mild",
        });
        return resource;
    }

    private static JsonObject Observation(ObservationFact fact, SiteRendering at)
    {
        var test = fact.Test;
        var resource = Start("Observation", fact, at);
        resource["status"] = "final";
        resource["category"] = test.Kind == ObservationKind.Laboratory
            ? Concept(Coding(Hl7 + "observation-category", "laboratory", "Laboratory"))
            : Concept(Coding(Hl7 + "observation-category", "vital-signs", "Vital Signs"));
        resource["code"] = Concept(test.Code.Display, test.Code);
        resource["subject"] = PatientReference(at);
        Encounter(resource, fact, at);
        resource["effectiveDateTime"] = Instant(fact.Effective);
        resource["issued"] = Instant(fact.Issued);
        resource["performer"] = new JsonArray(Reference("Organization", at.OrganizationId, at.Site.OrganizationName));
        if (fact.Value is { } value)
        {
            AddValue(resource, test, value, at.Site);
        }

        if (fact.Components.Count > 0)
        {
            resource["component"] = new JsonArray([.. fact.Components.Select(c =>
            {
                var component = new JsonObject { ["code"] = Concept(c.Test.Code.Display, c.Test.Code) };
                var (componentValue, unit, unitText) = InSiteUnit(at.Site, c.Test, c.Value);
                component["valueQuantity"] = Quantity(componentValue, unitText, CodeSystems.Ucum, unit);
                return (JsonNode)component;
            })]);
        }

        return resource;
    }

    private static void AddValue(JsonObject target, ObservationDefinition test, decimal canonical, SiteConventions site)
    {
        var (value, unit, unitText) = InSiteUnit(site, test, canonical);
        target["valueQuantity"] = Quantity(value, unitText, CodeSystems.Ucum, unit);
        if (VisitTypes.Interpretation(test, canonical) is not { } flag)
        {
            return;
        }

        target["interpretation"] = Concept(Coding(Hl7 + "v2/0078", flag, VisitTypes.InterpretationDisplay(flag)));
        var range = new JsonObject();
        if (test.Low is { } low)
        {
            range["low"] = Quantity(InSiteUnit(site, test, low).Value, unitText, CodeSystems.Ucum, unit);
        }

        if (test.High is { } high)
        {
            range["high"] = Quantity(InSiteUnit(site, test, high).Value, unitText, CodeSystems.Ucum, unit);
        }

        target["referenceRange"] = new JsonArray(range);
    }

    private static JsonObject Immunization(ImmunizationFact fact, SiteRendering at)
    {
        var resource = Start("Immunization", fact, at);
        resource["status"] = "completed";
        resource["date"] = Instant(fact.Given);
        resource["vaccineCode"] = Concept(fact.Vaccine.Cvx.Display, fact.Vaccine.Cvx);
        resource["patient"] = PatientReference(at);
        resource["wasNotGiven"] = false;
        resource["reported"] = at.EncounterIdOf(fact) is null;
        if (at.EncounterIdOf(fact) is not null)
        {
            resource["performer"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName);
        }

        Encounter(resource, fact, at);
        resource["lotNumber"] = fact.LotNumber;
        resource["site"] = Concept(Coding(Hl7 + "v3/ActSite", "LA", "left arm"));
        resource["route"] = Concept(Coding(Hl7 + "v3/RouteOfAdministration", "IM", "Injection, intramuscular"));
        resource["doseQuantity"] = Quantity(0.5m, "mL", CodeSystems.Ucum, "mL");
        return resource;
    }

    private static JsonObject Procedure(ProcedureFact fact, SiteRendering at)
    {
        var procedure = fact.Procedure;
        var resource = Start("Procedure", fact, at);
        resource["subject"] = PatientReference(at);
        resource["status"] = "completed";
        resource["code"] = Concept(procedure.Snomed.Display, procedure.Cpt is null ? [procedure.Snomed] : [procedure.Snomed, procedure.Cpt]);
        if (fact.ReasonFactId is { } reason && at.Holds(reason))
        {
            resource["reasonReference"] = Reference("Condition", at.IdOf(reason));
        }

        resource["performer"] = new JsonArray(new JsonObject { ["actor"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName) });
        resource["performedPeriod"] = Period(fact.Start, fact.End);
        Encounter(resource, fact, at);
        return resource;
    }

    private static JsonObject DiagnosticReport(DiagnosticReportFact fact, SiteRendering at)
    {
        var resource = Start("DiagnosticReport", fact, at);
        resource["status"] = "final";
        resource["category"] = Concept(Coding(Hl7 + "v2/0074", "LAB", "Laboratory"));
        resource["code"] = Concept(fact.Panel.Code.Display, fact.Panel.Code);
        resource["subject"] = PatientReference(at);
        Encounter(resource, fact, at);
        resource["effectiveDateTime"] = Instant(fact.Effective);
        resource["issued"] = Instant(fact.Issued);
        resource["performer"] = Reference("Organization", at.OrganizationId, at.Site.OrganizationName);
        resource["result"] = References("Observation", at.Held(fact.ResultFactIds).Select(at.IdOf));
        return resource;
    }

    private static JsonObject DocumentReference(DocumentFact fact, SiteRendering at)
    {
        var resource = Start("DocumentReference", fact, at);
        resource["subject"] = PatientReference(at);
        resource["type"] = Concept(fact.Type.Display, fact.Type);
        resource["author"] = new JsonArray(Reference("Practitioner", at.PractitionerId, at.PractitionerName));
        resource["custodian"] = Reference("Organization", at.OrganizationId, at.Site.OrganizationName);
        resource["created"] = Instant(fact.Date);
        resource["indexed"] = Instant(fact.Date);
        resource["status"] = "current";
        resource["docStatus"] = Concept(Coding(Hl7 + "composition-status", "final", "Final"));
        resource["description"] = fact.Title;
        var bytes = Encoding.UTF8.GetBytes(fact.Text);
        var attachment = new JsonObject { ["contentType"] = "text/plain", ["language"] = "en-US" };
        if (fact.Delivery == DocumentDelivery.Inline)
        {
            attachment["data"] = Convert.ToBase64String(bytes);
        }
        else
        {
            attachment["url"] = $"Binary/{at.BinaryIdOf(fact.FactId)}";
        }

        attachment["size"] = bytes.Length;
        attachment["title"] = fact.Title;
        attachment["creation"] = Instant(fact.Date);
        resource["content"] = new JsonArray(new JsonObject
        {
            ["attachment"] = attachment,
            ["format"] = new JsonArray(Coding("urn:oid:1.3.6.1.4.1.19376.1.2.3", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "mimeType Sufficient")),
        });
        var context = new JsonObject();
        if (at.EncounterIdOf(fact) is { } encounter)
        {
            context["encounter"] = Reference("Encounter", encounter);
        }

        context["period"] = Period(fact.Date);
        resource["context"] = context;
        return resource;
    }

    private static JsonObject CarePlan(CarePlanFact fact, SiteRendering at)
    {
        var plan = fact.Plan;
        var resource = Start("CarePlan", fact, at);
        resource["text"] = Narrative($"{plan.Title}: {string.Join(", ", plan.Activities.Select(a => a.Display))}");
        resource["subject"] = PatientReference(at);
        resource["status"] = "active";
        resource["period"] = new JsonObject { ["start"] = Date(fact.Start) };
        resource["modified"] = Instant(fact.RecordedAt);
        resource["author"] = new JsonArray(Reference("Practitioner", at.PractitionerId, at.PractitionerName));
        resource["category"] = new JsonArray(Concept(plan.Title, plan.Code));
        resource["description"] = plan.Title;
        resource["addresses"] = References("Condition", at.Held(fact.AddressesFactIds).Select(at.IdOf));
        resource["goal"] = References("Goal", at.Held(fact.GoalFactIds).Select(at.IdOf));
        resource["activity"] = new JsonArray([.. plan.Activities.Select(a => (JsonNode)new JsonObject
        {
            ["detail"] = new JsonObject { ["code"] = Concept(a.Display, a), ["status"] = "in-progress", ["prohibited"] = false },
        })]);
        return resource;
    }

    private static JsonObject Goal(GoalFact fact, SiteRendering at)
    {
        var resource = Start("Goal", fact, at);
        resource["subject"] = PatientReference(at);
        resource["startDate"] = Date(fact.Start);
        resource["targetDate"] = Date(fact.Due);
        resource["description"] = fact.Goal.Description;
        resource["status"] = "in-progress";
        resource["author"] = Reference("Practitioner", at.PractitionerId, at.PractitionerName);
        if (fact.AddressesFactId is { } condition && at.Holds(condition))
        {
            resource["addresses"] = References("Condition", [at.IdOf(condition)]);
        }

        return resource;
    }
}
