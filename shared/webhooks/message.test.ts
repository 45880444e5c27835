import { describe, expect, it } from 'vitest';
import { webhookIdFor } from './message.js';

describe('webhookIdFor', () => {
  it('names a progress event by its step, and by its image after the first', () => {
    expect(webhookIdFor('gen_a', 'progress', 3)).toBe('msg_gen_a_progress_3');
    expect(webhookIdFor('gen_a', 'progress', 3, 0)).toBe('msg_gen_a_progress_3');
    expect(webhookIdFor('gen_a', 'progress', 3, 2)).toBe('msg_gen_a_progress_2_3');
    expect(webhookIdFor('gen_a', 'completed', 3, 2)).toBe('msg_gen_a_completed');
  });
});
