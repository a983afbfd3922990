/** A labelled text input with its server-side error, for plain <Form>s that work without JavaScript. */
export function TextField(props: {
  name: string;
  label: string;
  defaultValue: string;
  error?: string;
  autoComplete?: string;
  required?: boolean;
}) {
  const errorId = `${props.name}-error`;
  return (
    <div className="field">
      <label htmlFor={props.name}>{props.label}</label>
      <input
        // A new key when the server sends values back resets the uncontrolled input to them.
        key={props.defaultValue}
        id={props.name}
        name={props.name}
        type="text"
        autoComplete={props.autoComplete ?? "off"}
        defaultValue={props.defaultValue}
        maxLength={200}
        aria-required={props.required ? true : undefined}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? errorId : undefined}
      />
      {props.error ? (
        <p id={errorId} className="field-error">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
