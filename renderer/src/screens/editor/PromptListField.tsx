// One side of a prompt set as a text area (one prompt a line) with its count, and prompts added
// from a file on the server (.txt, .json, .jsonl, Alpaca records: main/core/authoring/prompt-lists.ts).
import { Button, Group, Text, Textarea } from '@mantine/core';
import { useState } from 'react';
import { useStudio } from '../../studio.tsx';
import { FilePicker } from '../../components/FilePicker.tsx';
import { errorText } from '../../components/run.ts';

/** The prompts of a text area: one a line, blank lines dropped. */
export const linesOf = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** Prompts as text-area lines (a prompt's own line breaks become spaces: one prompt, one line). */
export const textOf = (prompts: string[]): string => prompts.map((p) => p.replace(/\s*\n\s*/g, ' ')).join('\n');

export function PromptListField(props: { label: string; what: string; value: string; onChange(v: string): void; hint: string }) {
  const { api } = useStudio();
  const [picking, setPicking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const n = linesOf(props.value).length;
  const add = (file: string) => {
    api['prompts.readList']({ file }).then(
      (r) => {
        setError(null);
        props.onChange([props.value.trimEnd(), textOf(r.prompts)].filter(Boolean).join('\n'));
      },
      (e: unknown) => setError(errorText(e)),
    );
  };
  return (
    <div>
      <Textarea
        label={props.label}
        description={`${props.hint} One per line · ${n} ${n === 1 ? 'prompt' : 'prompts'}`}
        value={props.value}
        onChange={(e) => props.onChange(e.currentTarget.value)}
        autosize
        minRows={4}
        maxRows={12}
        error={error}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } }}
      />
      <Group mt={4} gap="xs">
        <Button size="compact-xs" variant="subtle" onClick={() => setPicking(true)}>
          Add {props.what} from a file…
        </Button>
        <Text size="xs" c="dimmed">
          .txt (a line each), .json array, .jsonl, Alpaca records
        </Text>
      </Group>
      <FilePicker opened={picking} onClose={() => setPicking(false)} onPick={add} mode="file" title={`Add ${props.what} from a file`} />
    </div>
  );
}
