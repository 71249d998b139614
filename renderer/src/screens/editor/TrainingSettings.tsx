// The training settings form: its fields, choices and checks come from the contract's
// `personas.train` settings schema, and the defaults shown are the core's (personas.trainDefaults),
// so the form keeps no copy of either. An empty field means "the default".
import { NumberInput, Select, SimpleGrid } from '@mantine/core';
import { schemaResolver, useForm } from '@mantine/form';
import { useEffect, useState } from 'react';
import type { z } from 'zod';
import { trainSettingsArgs, type AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';

type Settings = NonNullable<z.input<typeof trainSettingsArgs>>;
type Key = keyof Settings;
type Values = Record<Key, string | number | null>;

const shape = trainSettingsArgs.unwrap().shape;
const KEYS = Object.keys(shape) as Key[];
const CHOICES: Partial<Record<Key, readonly string[]>> = {
  method: shape.method.unwrap().options,
  reduction: shape.reduction.unwrap().options,
};
const LABELS: Record<Key, string> = {
  method: 'Method',
  reduction: 'Reduction',
  maxPairs: 'Training pairs per side',
  samples: 'Samples per pair',
  maxNewTokens: 'Response length (tokens)',
  seed: 'Seed',
  batchSize: 'Batch size',
};

/** The settings to send: empty fields left out (the core's default applies). */
export function settingsOf(values: Values): Settings {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '' && v !== null)) as Settings;
}

const validate = schemaResolver(trainSettingsArgs, { sync: true });

export function useTrainingSettings() {
  return useForm<Values>({
    mode: 'controlled',
    initialValues: Object.fromEntries(KEYS.map((k) => [k, CHOICES[k] ? null : ''])) as Values,
    validate: (values) => validate(settingsOf(values)),
  });
}

export function TrainingSettings({ form }: { form: ReturnType<typeof useTrainingSettings> }) {
  const { api } = useStudio();
  const [defaults, setDefaults] = useState<AppResult<'personas.trainDefaults'> | null>(null);
  useEffect(() => {
    api['personas.trainDefaults']({}).then(setDefaults, () => setDefaults(null));
  }, [api]);
  const placeholder = (k: Key) => (defaults?.defaults[k] !== undefined ? `Default: ${defaults.defaults[k]}` : 'Default');
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }}>
      {KEYS.map((k) =>
        CHOICES[k] ? (
          <Select
            key={k}
            label={LABELS[k]}
            description={defaults?.docs[k]}
            placeholder={placeholder(k)}
            data={[...CHOICES[k]]}
            clearable
            {...form.getInputProps(k)}
          />
        ) : (
          <NumberInput
            key={k}
            label={LABELS[k]}
            description={defaults?.docs[k]}
            placeholder={placeholder(k)}
            allowDecimal={false}
            allowNegative={false}
            {...form.getInputProps(k)}
          />
        ),
      )}
    </SimpleGrid>
  );
}
