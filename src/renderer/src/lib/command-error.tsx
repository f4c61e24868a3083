// A failed command's message beside the control that ran it.
export function CommandError({ error }: { error: string | undefined }) {
  if (error === undefined) return null;
  return (
    <span role="alert" className="error">
      {error}
    </span>
  );
}
