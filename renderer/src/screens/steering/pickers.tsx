// What the steering screens (Playground, Compare, Layer sweep) share: the model and persona pickers,
// the steering they build, and error text. Personas are listed for the chosen model only (the ones
// with vectors for it), so every pick can steer.
import { Alert, MultiSelect, Select, Slider, Stack, Text } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import type { AppArgs, AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';

export type Models = AppResult<'models.list'>;
export type Personas = AppResult<'personas.list'>;
export type SteeringArgs = NonNullable<AppArgs<'generate'>['steering']>;

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A new stream name for a chat reply (chat.steer reaches the reply by it). */
export const newStreamId = (): string => `s-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

/** The library's models and the chosen one (the first, until the user picks). */
export function useModelChoice() {
  const { api } = useStudio();
  const [models, setModels] = useState<Models | null>(null);
  const [model, setModel] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api['models.list']({}).then(
      (m) => {
        setModels(m);
        setModel((cur) => cur ?? m[0]?.id ?? null);
      },
      (e: unknown) => setError(errorText(e)),
    );
  }, [api]);
  return { models, model, setModel, error };
}

/** The personas that have vectors for `model`; `reload` after training one elsewhere. */
export function usePersonas(model: string | null) {
  const { api } = useStudio();
  // Kept with the model they were listed for, so a switch never shows the previous model's personas.
  const [listed, setListed] = useState<{ model: string; personas: Personas } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (!model) return;
    api['personas.list']({ model }).then(
      (personas) => setListed({ model, personas }),
      (e: unknown) => setError(errorText(e)),
    );
  }, [api, model, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { personas: listed && listed.model === model ? listed.personas : null, error, reload };
}

export function ModelSelect({
  models,
  model,
  onChange,
  disabled,
}: {
  models: Models;
  model: string | null;
  onChange(id: string | null): void;
  disabled?: boolean;
}) {
  return (
    <Select
      label="Model"
      data={models.map((m) => ({ value: m.id, label: m.name }))}
      value={model}
      onChange={onChange}
      allowDeselect={false}
      disabled={disabled}
      w={260}
    />
  );
}

/** What to do when a screen has nothing to work on yet. */
export function EmptyState({ models, personas }: { models: Models | null; personas: Personas | null }) {
  if (models && models.length === 0)
    return (
      <Alert title="No models yet" color="gray">
        Compile a model on the Models screen first; the steering screens work on the library's models.
      </Alert>
    );
  if (personas && personas.length === 0)
    return (
      <Alert title="No personas for this model" color="gray">
        Train a persona in the Persona editor first (or import a vector file in the Library); personas with vectors for this model appear
        here.
      </Alert>
    );
  return null;
}

export interface PersonaAlpha {
  persona: string;
  alpha: number;
}

/** The range of the α sliders: the `norm` scale, where 1 adds the layer's typical residual norm. */
export const ALPHA_RANGE = { min: -3, max: 3, step: 0.05 };

/** Several personas, each with its own α slider. `onCommit` fires when a slider is released or a persona added or removed. */
export function PersonaMix({
  personas,
  value,
  onChange,
  onCommit,
}: {
  personas: Personas;
  value: PersonaAlpha[];
  onChange(v: PersonaAlpha[]): void;
  onCommit?(v: PersonaAlpha[]): void;
}) {
  const name = (id: string) => personas.find((p) => p.id === id)?.name ?? id;
  const set = (v: PersonaAlpha[]) => {
    onChange(v);
    onCommit?.(v);
  };
  return (
    <Stack gap="xs">
      <MultiSelect
        label="Personas"
        placeholder={value.length ? undefined : 'None: the unsteered model'}
        data={personas.map((p) => ({ value: p.id, label: p.name }))}
        value={value.map((v) => v.persona)}
        onChange={(ids) => set(ids.map((id) => value.find((v) => v.persona === id) ?? { persona: id, alpha: 1 }))}
        clearable
        searchable
        maxValues={16}
      />
      {value.map((v, i) => (
        <div key={v.persona}>
          <Text size="sm" id={`alpha-label-${v.persona}`}>
            α for {name(v.persona)}: <b>{v.alpha.toFixed(2)}</b>
          </Text>
          <Slider
            {...ALPHA_RANGE}
            thumbLabel={`α for ${name(v.persona)}`}
            value={v.alpha}
            onChange={(alpha) => onChange(value.map((x, j) => (j === i ? { ...x, alpha } : x)))}
            onChangeEnd={(alpha) => onCommit?.(value.map((x, j) => (j === i ? { ...x, alpha } : x)))}
            marks={[{ value: -2 }, { value: -1 }, { value: 0, label: '0' }, { value: 1 }, { value: 2 }]}
            mb="sm"
          />
        </div>
      ))}
    </Stack>
  );
}

export const steeringOf = (mix: PersonaAlpha[], layers: string): SteeringArgs => ({
  personas: mix.map((m) => ({ persona: m.persona, alpha: m.alpha })),
  ...(layers.trim() ? { layers: layers.trim() } : {}),
});
