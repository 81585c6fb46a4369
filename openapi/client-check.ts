// Compiled (never run) by the contract checks: a generated TypeScript client must let a partner write this.
import type { components, paths } from "./generated/aggregator";

type CategoryPage = paths["/v1/patients/{patientId}/record/{category}"]["get"]["responses"]["200"]["content"]["application/json"];
type Problem = components["schemas"]["Problem"];

/** The record's items are a union keyed by `category`: narrowing on it gives each category's own fields. */
export function labValues(page: CategoryPage): { value: number; unit: string | null | undefined }[] {
    return page.items.flatMap(item =>
        item.category === "labs" && item.value != null && typeof item.value !== "string"
            ? [{ value: item.value.value, unit: item.value.unit }]
            : []);
}

export function describe(problem: Problem): string {
    return `${problem.status} ${problem.type}: ${problem.title}`;
}
