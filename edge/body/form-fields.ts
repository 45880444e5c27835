/**
 * A number sent as a form field: text, coerced. Documented as the number it is, with its
 * bounds and without null: the document generator offers null where `Number(null)` (0)
 * passes, and drops the bounds when the type is set by hand, but a form cannot send null.
 */
import { z } from 'zod';

export function formNumber(o: { min: number; max: number; int?: boolean; description?: string }) {
  const number = o.int ? z.coerce.number().int() : z.coerce.number();
  return number
    .min(o.min)
    .max(o.max)
    .optional()
    .meta({ type: o.int ? 'integer' : 'number', minimum: o.min, maximum: o.max, ...(o.description ? { description: o.description } : {}) });
}
