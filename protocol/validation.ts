// Turns a schema failure into one clear message naming the offending field (e.g. "inputs: needs at least one chunk input").
import type { z } from 'zod';

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.length ? issue.path.map(String).join('.') : '(body)';
      if (issue.code === 'unrecognized_keys') return `${path}: unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return `${path}: is required`;
      return `${path}: ${issue.message.replace(/^Invalid input: /, '')}`;
    })
    .join('; ');
}
