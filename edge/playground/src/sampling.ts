/**
 * The settings a model's sampling allows (GET /v1/models, `sampling`): a few-step model
 * serves only some step counts and may have its guidance fixed in the network. The form says
 * so before a request is refused for it (the server still refuses with 400 what it cannot do).
 */
import type { Model } from './schemas.js';

export interface SamplingSettings {
  /** The steps input's maximum: the model's and the API's, whichever is lower. */
  stepsMax: number | undefined;
  stepsHelp: string;
  guidanceFixed: boolean;
  guidanceHelp: string;
}

/** "1 or 2", "1, 2 or 4". */
function either(counts: readonly number[]): string {
  return counts.length === 1 ? String(counts[0]) : `${counts.slice(0, -1).join(', ')} or ${counts[counts.length - 1]}`;
}

export function samplingSettings(model: Model | undefined, apiStepsMax: number | undefined): SamplingSettings {
  const s = model?.sampling;
  if (!s)
    return {
      stepsMax: apiStepsMax,
      stepsHelp: "Empty: the model's default.",
      guidanceFixed: false,
      guidanceHelp: "Empty: the model's default.",
    };
  const name = model.name ?? model.id;
  const stepsMax = apiStepsMax === undefined ? s.max_steps : Math.min(apiStepsMax, s.max_steps);
  const stepsHelp = s.supported_steps
    ? `${name} draws in ${either(s.supported_steps)} steps. Empty: ${s.default_steps}.`
    : `Empty: ${name}'s default, ${s.default_steps}.`;
  const guidanceFixed = s.guidance === 'fixed';
  const guidanceHelp = guidanceFixed
    ? `Fixed at ${s.default_guidance} for ${name}: learned by the model, no extra work a step.`
    : `Empty: ${name}'s default, ${s.default_guidance}${byStepsText(s.guidance_by_steps)}.`;
  return { stepsMax, stepsHelp, guidanceFixed, guidanceHelp };
}

/** " (3 at 2 or 4 steps)": the guidance the model chose for some step counts, grouped by value. */
function byStepsText(by: Readonly<Record<string, number>> | undefined): string {
  if (!by) return '';
  const groups = new Map<number, number[]>();
  for (const [steps, g] of Object.entries(by)) groups.set(g, [...(groups.get(g) ?? []), Number(steps)]);
  const parts = [...groups].map(([g, counts]) => {
    counts.sort((a, b) => a - b);
    return `${g} at ${either(counts)} ${counts.length === 1 && counts[0] === 1 ? 'step' : 'steps'}`;
  });
  return ` (${parts.join(', ')})`;
}
