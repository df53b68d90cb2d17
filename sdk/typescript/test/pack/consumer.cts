// Type-checked by scripts/test-sdk.sh in the empty project: the CommonJS
// declarations resolve through `require` and type the API.

import sdk = require("@partner-program/sdk");

const partners = new sdk.PartnerProgram({ baseUrl: "https://partners-api.example.com", apiKey: "k" });
export async function enrolled(customerId: string): Promise<boolean> {
  const lookup: sdk.PartnerLookup = await partners.affiliates.get(customerId);
  return lookup.enrolled;
}
