// Models: the library's models and their compiled variants.
import { Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { AppResult } from '../../../../preload/contract.ts';
import { useStudio } from '../../studio.tsx';

export function ModelsScreen() {
  const { api } = useStudio();
  const [models, setModels] = useState<AppResult<'models.list'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api['models.list']({}).then(setModels, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [api]);
  return (
    <Stack>
      <Title order={2}>Models</Title>
      {error && <Text c="red">{error}</Text>}
      {models && models.length === 0 && <Text>No models yet. Compile a Hugging Face checkpoint folder to add one.</Text>}
      {models && models.length > 0 && (
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Architecture</Table.Th>
              <Table.Th>Layers</Table.Th>
              <Table.Th>Variants</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {models.map((m) => (
              <Table.Tr key={m.id}>
                <Table.Td>{m.name}</Table.Td>
                <Table.Td>{m.architecture}</Table.Td>
                <Table.Td>{m.numLayers}</Table.Td>
                <Table.Td>{m.variants.map((v) => v.precision).join(', ')}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
