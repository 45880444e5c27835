import { describe, expect, it } from 'vitest';
import { samplingSettings } from './sampling.js';
import type { Model } from './schemas.js';

const model = (sampling: NonNullable<Model['sampling']>): Model => ({ id: 'shapes64', name: 'shapes64', sampling }) as Model;

describe("the settings' help follows the model's sampling", () => {
  it('says which step counts take another guidance than the default, grouped by value', () => {
    const s = samplingSettings(
      model({
        default_steps: 10,
        max_steps: 100,
        guidance: 'adjustable',
        default_guidance: 6,
        guidance_by_steps: { '4': 3, '1': 2, '2': 3 },
      }),
      100,
    );
    expect(s.guidanceHelp).toBe("Empty: shapes64's default, 6 (2 at 1 step, 3 at 2 or 4 steps).");
    expect(s.guidanceFixed).toBe(false);
  });

  it('says only the default where the model chose none per step count', () => {
    const s = samplingSettings(model({ default_steps: 10, max_steps: 100, guidance: 'adjustable', default_guidance: 6 }), 100);
    expect(s.guidanceHelp).toBe("Empty: shapes64's default, 6.");
  });
});
